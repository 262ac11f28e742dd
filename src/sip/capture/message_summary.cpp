#include "sip/capture/message_summary.hpp"

#include <cstddef>

namespace tl::sip::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits off the first line (without its CRLF, LF or CR).
std::string_view next_line(std::string_view& s) {
    const std::size_t end = s.find_first_of("\r\n");
    const std::string_view line = s.substr(0, end);
    if (end == std::string_view::npos) {
        s = {};
    } else {
        s.remove_prefix(end);
        if (s.front() == '\r') s.remove_prefix(1);
        if (!s.empty() && s.front() == '\n') s.remove_prefix(1);
    }
    return line;
}

std::string_view first_token(std::string_view s) {
    s = trim(s);
    return s.substr(0, s.find_first_of(" \t"));
}

}  // namespace

MessageSummary summarize_message(std::string_view raw) {
    MessageSummary summary;
    const std::size_t start = raw.find_first_not_of("\r\n");
    if (start == std::string_view::npos) {
        summary.keep_alive = true;
        return summary;
    }
    raw.remove_prefix(start);
    const std::string_view start_line = next_line(raw);
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)
    if (start_line.size() >= 4 && iequals(start_line.substr(0, 4), "SIP/")) {
        const std::size_t space = start_line.find_first_of(" \t");
        const std::string_view rest =
            space == std::string_view::npos ? std::string_view{} : trim(start_line.substr(space));
        const std::string_view code = rest.substr(0, 3);
        if (code.size() == 3 && code[0] >= '1' && code[0] <= '6' && code[1] >= '0' &&
            code[1] <= '9' && code[2] >= '0' && code[2] <= '9' &&
            (rest.size() == 3 || rest[3] == ' ' || rest[3] == '\t')) {
            summary.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
            summary.reason = std::string(trim(rest.substr(3)));
        }
    } else {
        // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1)
        summary.method = std::string(first_token(start_line));
    }
    // The header section ends at the first empty line. A CSeq folded (RFC 3261 §7.3.1) before
    // its method gives no method here: the ladder then shows the status alone.
    while (!raw.empty()) {
        const std::string_view line = next_line(raw);
        if (line.empty()) break;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        if (!iequals(trim(line.substr(0, colon)), "CSeq")) continue;
        // CSeq = "CSeq" HCOLON 1*DIGIT LWS Method (RFC 3261 §20.16)
        std::string_view value = trim(line.substr(colon + 1));
        const std::size_t space = value.find_first_of(" \t");
        if (space != std::string_view::npos) {
            summary.cseq_method = std::string(first_token(value.substr(space)));
        }
        break;
    }
    return summary;
}

}  // namespace tl::sip::detail
