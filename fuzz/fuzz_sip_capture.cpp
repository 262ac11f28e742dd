// Fuzzes what a call's SIP capture reads (sip/capture/): the input as a SIP message, as a peer
// sends it, to redact_sip_message; and the input as a stored capture document to
// capture_from_json, whose messages are then redacted, rendered as a ladder and written as pcap.
//
// Invariants of the redaction, checked on its output alone so they hold whatever the input:
// - redacting twice changes nothing more;
// - the output has the same logical lines (RFC 3261 §7.3.1 folding) with the same line endings;
//   only the values of Authorization / Proxy-Authorization headers and `a=crypto:` lines change;
// - in such a header, a credential is either `[redacted]` after its scheme, a bare scheme name,
//   or Digest parameters where every `response=` outside a quoted string is `"[redacted]"`;
// - in an `a=crypto:` line, every `inline:` is followed by `[redacted]` or by no key at all.
// Invariants of the capture document: a parsed document written by capture_to_json reads back
// to the same messages, oldest first; the ladder is printable ASCII lines; the pcap is a global
// header plus whole records, at least one per message, none over the snap length.

#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "sip/capture/capture_json.hpp"
#include "sip/capture/ladder.hpp"
#include "sip/capture/pcap.hpp"
#include "sip/capture/redaction.hpp"

namespace {

using tl::sip::CapturedMessage;
using tl::sip::CaptureSnapshot;
using tl::sip::kRedacted;

constexpr std::string_view kRedactedQuoted = "\"[redacted]\"";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_lws(char c) { return is_wsp(c) || c == '\r' || c == '\n'; }

// token (RFC 3261 §25.1).
bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

std::string_view trim_lws(std::string_view s) {
    while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
    return s;
}

// A header field with its folded continuation lines (RFC 3261 §7.3.1: a line that starts with
// SP or HTAB continues the one before, unless that one is empty), and the line ending after it.
// CRLF, LF and a lone CR all end a line, as they do for a lenient peer.
struct LogicalLine {
    std::string_view text;
    std::string_view ending;
};

std::vector<LogicalLine> logical_lines(std::string_view s) {
    const auto line_end = [s](std::size_t pos) {
        while (pos < s.size() && s[pos] != '\r' && s[pos] != '\n') ++pos;
        return pos;
    };
    const auto after_ending = [s](std::size_t end) {
        if (end < s.size() && s[end] == '\r') ++end;
        if (end < s.size() && s[end] == '\n') ++end;
        return end;
    };
    std::vector<LogicalLine> lines;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = line_end(pos);
        std::size_t next = after_ending(end);
        while (end > pos && next < s.size() && is_wsp(s[next])) {
            end = line_end(next);
            next = after_ending(end);
        }
        lines.push_back({s.substr(pos, end - pos), s.substr(end, next - end)});
        pos = next;
    }
    return lines;
}

bool is_crypto_line(std::string_view line) { return istarts_with(line, "a=crypto:"); }

// The position of the ':' of an Authorization or Proxy-Authorization header, or npos.
std::size_t credentials_colon(std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return colon;
    const std::string_view name = trim_lws(line.substr(0, colon));
    if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization")) return colon;
    return std::string_view::npos;
}

// One redaction, described only when a check fails (TL_FUZZ_CHECK evaluates its detail then).
struct Redaction {
    std::string_view raw;
    std::string_view redacted;

    std::string describe() const {
        // The output first: fail() prints at most 16 KiB of the detail.
        return std::string(redacted) + "\n  redacted from\n  " + std::string(raw);
    }
};

// Every `response` parameter name outside a quoted string is followed by "[redacted]". A name is
// `response` with no token character on either side, then LWS, '=' and LWS.
void check_digest_responses(std::string_view params, const Redaction& r) {
    bool quoted = false;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const char c = params[i];
        if (quoted) {
            if (c == '\\') {
                ++i;  // quoted-pair
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
            continue;
        }
        constexpr std::string_view kName = "response";
        if (!istarts_with(params.substr(i), kName)) continue;
        if (i > 0 && is_token_char(params[i - 1])) continue;
        std::size_t j = i + kName.size();
        if (j < params.size() && is_token_char(params[j])) continue;
        while (j < params.size() && is_lws(params[j])) ++j;
        if (j >= params.size() || params[j] != '=') continue;
        ++j;
        while (j < params.size() && is_lws(params[j])) ++j;
        TL_FUZZ_CHECK(params.substr(j).starts_with(kRedactedQuoted), r.describe());
    }
}

void check_credentials(std::string_view value, const Redaction& r) {
    value = trim_lws(value);
    if (value.empty() || value == kRedacted) return;
    std::size_t scheme_end = 0;
    while (scheme_end < value.size() && is_token_char(value[scheme_end])) ++scheme_end;
    const std::string_view scheme = value.substr(0, scheme_end);
    TL_FUZZ_CHECK(!scheme.empty(), r.describe());
    if (scheme_end == value.size()) {
        // A bare scheme name stays; any other single word may be a token sent without a scheme.
        TL_FUZZ_CHECK(
            iequals(scheme, "Digest") || iequals(scheme, "Basic") || iequals(scheme, "Bearer"),
            r.describe());
        return;
    }
    TL_FUZZ_CHECK(is_lws(value[scheme_end]), r.describe());
    const std::string_view rest = trim_lws(value.substr(scheme_end));
    if (rest == kRedacted) return;
    // Only Digest credentials are kept in part, and then never their response.
    TL_FUZZ_CHECK(iequals(scheme, "Digest"), r.describe());
    check_digest_responses(rest, r);
}

// RFC 4568 §9.1: the key||salt follows "inline:" up to '|', ';' or whitespace.
void check_crypto_keys(std::string_view line, const Redaction& r) {
    constexpr std::string_view kInline = "inline:";
    for (std::size_t i = 0; i + kInline.size() <= line.size(); ++i) {
        if (!iequals(line.substr(i, kInline.size()), kInline)) continue;
        const std::string_view key = line.substr(i + kInline.size());
        TL_FUZZ_CHECK(key.empty() || key.starts_with(kRedacted) || key.front() == '|' ||
                          key.front() == ';' || is_lws(key.front()),
                      r.describe());
    }
}

void check_redaction(std::string_view raw) {
    const std::string redacted = tl::sip::redact_sip_message(raw);
    const Redaction r{raw, redacted};
    TL_FUZZ_CHECK(tl::sip::redact_sip_message(redacted) == redacted, r.describe());

    const auto in = logical_lines(raw);
    const auto out = logical_lines(redacted);
    TL_FUZZ_CHECK(in.size() == out.size(), r.describe());
    for (std::size_t i = 0; i < in.size(); ++i) {
        TL_FUZZ_CHECK(in[i].ending == out[i].ending, r.describe());
        const std::size_t colon = credentials_colon(in[i].text);
        if (colon != std::string_view::npos) {
            // The header name stays, so the output line is still this header.
            TL_FUZZ_CHECK(out[i].text.substr(0, colon + 1) == in[i].text.substr(0, colon + 1),
                          r.describe());
            check_credentials(out[i].text.substr(colon + 1), r);
        } else if (is_crypto_line(in[i].text)) {
            TL_FUZZ_CHECK(is_crypto_line(out[i].text), r.describe());
            check_crypto_keys(out[i].text, r);
        } else {
            TL_FUZZ_CHECK(in[i].text == out[i].text, r.describe());
        }
    }
}

bool same_message(const CapturedMessage& a, const CapturedMessage& b) {
    return a.timestamp == b.timestamp && a.direction == b.direction && a.transport == b.transport &&
           a.local_ip == b.local_ip && a.local_port == b.local_port && a.remote_ip == b.remote_ip &&
           a.remote_port == b.remote_port && a.raw == b.raw;
}

std::uint32_t le32(std::string_view bytes, std::size_t at) {
    const auto byte = [&](std::size_t i) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i]));
    };
    return byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
}

// pcap-savefile(5): a 24-byte global header, then records of a 16-byte header (incl_len at 8,
// orig_len at 12) and incl_len bytes.
void check_pcap(const CaptureSnapshot& snapshot, std::string_view json) {
    const std::string pcap = tl::sip::write_pcap(snapshot);
    TL_FUZZ_CHECK(pcap.size() >= 24 && le32(pcap, 0) == 0xa1b2c3d4, json);
    std::size_t records = 0;
    std::size_t pos = 24;
    while (pos < pcap.size()) {
        TL_FUZZ_CHECK(pcap.size() - pos >= 16, json);
        const std::uint32_t length = le32(pcap, pos + 8);
        TL_FUZZ_CHECK(length == le32(pcap, pos + 12) && length <= tl::sip::kPcapSnapLength, json);
        TL_FUZZ_CHECK(pcap.size() - pos - 16 >= length, json);
        pos += 16 + length;
        ++records;
    }
    TL_FUZZ_CHECK(records >= snapshot.messages.size(), json);
}

void check_capture_document(std::string_view json) {
    const auto parsed = tl::sip::capture_from_json(json);
    if (!parsed) {
        TL_FUZZ_CHECK(!parsed.error().message.empty(), json);
        return;
    }
    const CaptureSnapshot& snapshot = *parsed;
    const std::string written = boost::json::serialize(tl::sip::capture_to_json(snapshot));
    const auto context = [&] { return written + "\n  written from\n  " + std::string(json); };
    const auto again = tl::sip::capture_from_json(written);
    TL_FUZZ_CHECK(again.has_value(), context());
    TL_FUZZ_CHECK(again->truncated == snapshot.truncated, context());
    const auto ordered = tl::sip::oldest_first(snapshot);
    TL_FUZZ_CHECK(again->messages.size() == ordered.size(), context());
    for (std::size_t i = 0; i < ordered.size(); ++i) {
        TL_FUZZ_CHECK(same_message(again->messages[i], *ordered[i]), context());
    }

    for (const auto& message : snapshot.messages) check_redaction(message.raw);

    const std::string ladder = tl::sip::render_ladder(snapshot);
    for (const char c : ladder) {
        TL_FUZZ_CHECK(c == '\n' || (c >= 0x20 && c <= 0x7e), ladder + "\n  from\n  " + context());
    }
    check_pcap(snapshot, json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_redaction(text);
    check_capture_document(text);
    return 0;
}
