#include "sip/capture/redaction.hpp"

#include <cstddef>
#include <utility>
#include <vector>

namespace tl::sip {
namespace {

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

// token (RFC 3261 §25.1): alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

// Inside a header value, folding (RFC 3261 §7.3.1: CRLF followed by SP/HTAB) is whitespace too.
bool is_lws(char c) { return is_wsp(c) || c == '\r' || c == '\n'; }

// Copies the input to the output, replacing the ranges it is told to (in increasing order).
class Rewriter {
public:
    explicit Rewriter(std::string_view in) : in_(in) { out_.reserve(in.size()); }

    void replace(std::size_t begin, std::size_t end, std::string_view with) {
        out_.append(in_.substr(copied_, begin - copied_));
        out_.append(with);
        copied_ = end;
    }

    std::string finish() && {
        out_.append(in_.substr(copied_));
        return std::move(out_);
    }

private:
    std::string_view in_;
    std::string out_;
    std::size_t copied_ = 0;
};

// Positions [begin, end) are always within the message; `end` is where a header field (or line)
// stops, before its line ending.
class Redactor {
public:
    explicit Redactor(std::string_view in) : in_(in), out_(in) {}

    std::string run() && {
        std::size_t pos = 0;
        while (pos < in_.size()) {
            // A logical line: one physical line plus the continuation lines folded onto it
            // (RFC 3261 §7.3.1). In an SDP body no line starts with whitespace, so there a
            // logical line is a physical one.
            std::size_t end = line_end(pos);
            std::size_t next = after_line_ending(end);
            while (end > pos && next < in_.size() && is_wsp(in_[next])) {
                end = line_end(next);
                next = after_line_ending(end);
            }
            redact_line(pos, end);
            pos = next;
        }
        return std::move(out_).finish();
    }

private:
    // Lines may end in CRLF, LF or a lone CR: a peer that uses the wrong one must not get its
    // credentials past the redaction.
    std::size_t line_end(std::size_t pos) const {
        while (pos < in_.size() && in_[pos] != '\r' && in_[pos] != '\n') ++pos;
        return pos;
    }

    std::size_t after_line_ending(std::size_t end) const {
        if (end < in_.size() && in_[end] == '\r') ++end;
        if (end < in_.size() && in_[end] == '\n') ++end;
        return end;
    }

    // Every line is looked at, body included: an Authorization header can also come inside a
    // message/sip or message/sipfrag body, and `a=crypto` in any SDP part of a multipart body.
    void redact_line(std::size_t begin, std::size_t end) {
        const std::string_view line = in_.substr(begin, end - begin);
        if (istarts_with(line, "a=crypto:")) {
            redact_crypto_keys(begin, end);
            return;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return;
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && is_lws(name.front())) name.remove_prefix(1);
        while (!name.empty() && is_lws(name.back())) name.remove_suffix(1);
        if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization")) {
            redact_credentials(begin + colon + 1, end);
        }
    }

    std::size_t skip_lws(std::size_t pos, std::size_t end) const {
        while (pos < end && is_lws(in_[pos])) ++pos;
        return pos;
    }

    std::size_t token_end(std::size_t pos, std::size_t end) const {
        while (pos < end && is_token_char(in_[pos])) ++pos;
        return pos;
    }

    // credentials = ("Digest" LWS digest-response) / other-response (RFC 3261 §25.1). What does
    // not parse is redacted whole: a peer that sends a malformed header must not get its secret
    // through because this parser and the one that checks the response disagree on it.
    void redact_credentials(std::size_t pos, std::size_t end) {
        pos = skip_lws(pos, end);
        while (end > pos && is_lws(in_[end - 1])) --end;
        if (pos >= end) return;
        const std::size_t scheme_end = token_end(pos, end);
        const std::string_view scheme = in_.substr(pos, scheme_end - pos);
        if (scheme.empty() || (scheme_end < end && !is_lws(in_[scheme_end]))) {
            out_.replace(pos, end, kRedacted);  // no scheme: all of it may be a secret
            return;
        }
        if (scheme_end == end) {
            // A single word is a scheme without credentials only if it names one; otherwise it
            // may itself be a token sent without a scheme.
            if (!iequals(scheme, "Digest") && !iequals(scheme, "Basic") &&
                !iequals(scheme, "Bearer")) {
                out_.replace(pos, end, kRedacted);
            }
            return;
        }
        if (iequals(scheme, "Digest") && redact_digest_response(scheme_end, end)) return;
        // Basic, Bearer, anything unknown, or Digest that does not parse.
        out_.replace(skip_lws(scheme_end, end), end, kRedacted);
    }

    // digest-response = dig-resp *(COMMA dig-resp); dig-resp = token EQUAL (token /
    // quoted-string) (RFC 3261 §25.1). Redacts the response's value and returns true when
    // everything parses; false, with nothing redacted, otherwise. Unquoted values may also hold
    // the characters that sloppy clients put there ('/', ':', '@'), but not '"' or '=', so no
    // parameter can hide inside another.
    bool redact_digest_response(std::size_t pos, std::size_t end) {
        std::vector<std::pair<std::size_t, std::size_t>> responses;
        pos = skip_lws(pos, end);
        while (pos < end) {
            const std::size_t name_end = token_end(pos, end);
            if (name_end == pos) return false;
            const std::string_view name = in_.substr(pos, name_end - pos);
            pos = skip_lws(name_end, end);
            if (pos >= end || in_[pos] != '=') return false;
            pos = skip_lws(pos + 1, end);
            const std::size_t value_begin = pos;
            if (pos < end && in_[pos] == '"') {
                ++pos;
                while (pos < end && in_[pos] != '"') {
                    if (in_[pos] == '\\') ++pos;  // quoted-pair
                    ++pos;
                }
                if (pos >= end) return false;  // unterminated
                ++pos;
            } else {
                while (pos < end && !is_lws(in_[pos]) && in_[pos] != ',' && in_[pos] != '"' &&
                       in_[pos] != '=') {
                    ++pos;
                }
                if (pos == value_begin) return false;
            }
            if (iequals(name, "response")) responses.emplace_back(value_begin, pos);
            pos = skip_lws(pos, end);
            if (pos >= end) break;
            if (in_[pos] != ',') return false;
            // Empty list elements are allowed (RFC 9110 §5.6.1.2).
            while (pos < end && (in_[pos] == ',' || is_lws(in_[pos]))) ++pos;
        }
        for (const auto& [begin, value_end] : responses) {
            out_.replace(begin, value_end, "\"[redacted]\"");
        }
        return true;
    }

    // a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] where key-params are
    // "inline:" <key||salt> ["|" lifetime] ["|" MKI:length], several joined by ';' (RFC 4568
    // §9.1). Only the key||salt is secret; the lifetime and MKI help debugging.
    void redact_crypto_keys(std::size_t pos, std::size_t end) {
        constexpr std::string_view kInline = "inline:";
        while (pos < end) {
            const std::string_view rest = in_.substr(pos, end - pos);
            std::size_t found = std::string_view::npos;
            for (std::size_t i = 0; i + kInline.size() <= rest.size(); ++i) {
                if (iequals(rest.substr(i, kInline.size()), kInline)) {
                    found = i;
                    break;
                }
            }
            if (found == std::string_view::npos) return;
            const std::size_t key_begin = pos + found + kInline.size();
            std::size_t key_end = key_begin;
            while (key_end < end && in_[key_end] != '|' && in_[key_end] != ';' &&
                   !is_lws(in_[key_end])) {
                ++key_end;
            }
            if (key_end > key_begin) out_.replace(key_begin, key_end, kRedacted);
            pos = key_end;
        }
    }

    std::string_view in_;
    Rewriter out_;
};

}  // namespace

std::string redact_sip_message(std::string_view raw) { return Redactor(raw).run(); }

}  // namespace tl::sip
