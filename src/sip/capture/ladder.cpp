#include "sip/capture/ladder.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <vector>

#include "sip/capture/message_summary.hpp"

namespace tl::sip {
namespace {

constexpr std::size_t kLineWidth = 120;
constexpr std::size_t kPrefixWidth = 20;  // "    +123.456s  UDP", then a space
constexpr std::size_t kMinColumnWidth = 14;
constexpr std::size_t kMaxColumnWidth = 36;
constexpr std::string_view kUs = "trunkline";

// Printable ASCII only: the text comes from the network and goes to a terminal.
std::string printable(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c < 0x20 || c > 0x7e) c = '?';
    }
    return out;
}

std::string address(std::string_view ip, int port) {
    std::string out =
        ip.find(':') != std::string_view::npos ? "[" + std::string(ip) + "]" : std::string(ip);
    return printable(out + ":" + std::to_string(port));
}

// Shortened to `width` by cutting out the middle: the start and the port of an address are the
// parts that tell parties apart.
std::string abbreviate(std::string s, std::size_t width) {
    if (s.size() <= width) return s;
    if (width < 4) return s.substr(0, width);
    const std::size_t tail = (width - 2) / 2;
    const std::size_t head = width - 2 - tail;
    return s.substr(0, head) + ".." + s.substr(s.size() - tail);
}

// The longest label that fits `width`, from the fullest to the shortest form.
std::string label(const detail::MessageSummary& m, std::size_t width) {
    std::vector<std::string> forms;
    if (m.keep_alive) {
        forms = {"keep-alive (CRLF)", "keep-alive", "CRLF"};
    } else if (m.status != 0) {
        const std::string code = std::to_string(m.status);
        const std::string reason = printable(m.reason);
        const std::string cseq = m.cseq_method.empty() ? "" : " (" + printable(m.cseq_method) + ")";
        forms = {code + " " + reason + cseq, code + " " + reason, code + cseq, code};
        if (reason.empty()) forms.erase(forms.begin(), forms.begin() + 2);
    } else if (!m.method.empty()) {
        forms = {printable(m.method)};
    } else {
        forms = {"(not SIP)", "?"};
    }
    for (const auto& form : forms) {
        if (form.size() <= width) return form;
    }
    return abbreviate(forms.back(), width);
}

std::string elapsed(std::chrono::system_clock::duration d) {
    const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    char out[32];
    std::snprintf(out, sizeof out, "+%lld.%03llds", ms / 1000, ms % 1000);
    return out;
}

void put(std::string& line, std::size_t at, std::string_view text) {
    if (at + text.size() > line.size()) line.resize(at + text.size(), ' ');
    line.replace(at, text.size(), text);
}

void trim_right(std::string& line) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
}

struct Layout {
    std::size_t column_width = 0;
    std::vector<std::size_t> lifelines;  // x of each party's vertical line

    std::string empty_row() const {
        std::string line(kPrefixWidth + lifelines.size() * column_width, ' ');
        for (const std::size_t x : lifelines) line[x] = '|';
        return line;
    }
};

Layout layout_for(std::size_t parties) {
    Layout layout;
    layout.column_width =
        std::clamp((kLineWidth - kPrefixWidth) / parties, kMinColumnWidth, kMaxColumnWidth);
    for (std::size_t i = 0; i < parties; ++i) {
        layout.lifelines.push_back(kPrefixWidth + layout.column_width / 2 +
                                   i * layout.column_width);
    }
    return layout;
}

}  // namespace

std::string render_ladder(const CaptureSnapshot& snapshot) {
    const auto messages = oldest_first(snapshot);
    const std::string truncated_note =
        snapshot.truncated ? "... capture truncated: later messages of this call were not kept\n"
                           : "";
    if (messages.empty()) return "(no SIP messages captured)\n" + truncated_note;

    // Parties: us first, then each remote address in the order it first appears.
    std::vector<std::string> parties{std::string(kUs)};
    std::vector<std::string> local_addresses;
    std::vector<std::size_t> column_of;  // per message
    for (const auto* m : messages) {
        const std::string local = address(m->local_ip, m->local_port);
        if (std::find(local_addresses.begin(), local_addresses.end(), local) ==
            local_addresses.end()) {
            local_addresses.push_back(local);
        }
        const std::string remote = address(m->remote_ip, m->remote_port);
        const auto found = std::find(parties.begin() + 1, parties.end(), remote);
        column_of.push_back(static_cast<std::size_t>(found - parties.begin()));
        if (found == parties.end()) parties.push_back(remote);
    }
    const Layout layout = layout_for(parties.size());

    std::string out = std::string(kUs) + " = ";
    for (std::size_t i = 0; i < local_addresses.size(); ++i) {
        out += (i == 0 ? "" : ", ") + local_addresses[i];
    }
    out += "\n";

    // Column heads, centred on their lifelines; an address too wide for its column is
    // abbreviated, and then given in full on a line of its own.
    std::string heads;
    std::string legend;
    for (std::size_t i = 0; i < parties.size(); ++i) {
        const std::string head = abbreviate(parties[i], layout.column_width - 2);
        if (head != parties[i]) legend += head + " = " + parties[i] + "\n";
        const std::size_t half = head.size() / 2;
        std::size_t at = layout.lifelines[i] > half ? layout.lifelines[i] - half : 0;
        if (!heads.empty()) at = std::max(at, heads.size() + 1);
        put(heads, at, head);
    }
    out += legend + heads + "\n";
    std::string blank = layout.empty_row();
    trim_right(blank);
    out += blank + "\n";

    const auto start = messages.front()->timestamp;
    for (std::size_t row = 0; row < messages.size(); ++row) {
        const CapturedMessage& m = *messages[row];
        std::string line = layout.empty_row();
        std::string transport = printable(m.transport);
        std::transform(transport.begin(), transport.end(), transport.begin(),
                       [](char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; });
        const std::string time = elapsed(m.timestamp - start);
        std::string prefix = std::string(time.size() < 12 ? 12 - time.size() : 0, ' ') + time;
        prefix += "  " + transport.substr(0, 4);
        put(line, 0, prefix.substr(0, kPrefixWidth - 1));

        // The arrow points from the sender to the receiver: out is us -> them, in is them -> us.
        const std::size_t ours = layout.lifelines[0];
        const std::size_t theirs = layout.lifelines[column_of[row]];
        const bool rightwards = m.direction == Direction::kOut;
        std::fill(line.begin() + ours + 1, line.begin() + theirs, '-');
        line[rightwards ? theirs - 1 : ours + 1] = rightwards ? '>' : '<';
        // Two characters of shaft or head stay at each end.
        const std::size_t span = theirs - ours - 1;
        const std::string text = label(detail::summarize_message(m.raw), span - 4);
        put(line, ours + 1 + (span - text.size()) / 2, text);
        trim_right(line);
        out += line + "\n";
    }
    return out + truncated_note;
}

}  // namespace tl::sip
