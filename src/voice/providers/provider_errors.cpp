#include "voice/providers/provider_errors.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

namespace tl::voice {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxMessageBytes = 300;

std::string clean(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, kMaxMessageBytes)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u < 0x20 || u == 0x7F ? ' ' : c);
    }
    // A cut in the middle of a UTF-8 sequence: drop the incomplete tail.
    if (text.size() > kMaxMessageBytes) {
        std::size_t end = out.size();
        std::size_t back = 0;
        while (back < 4 && end > back &&
               (static_cast<unsigned char>(out[end - 1 - back]) & 0xC0) == 0x80) {
            ++back;
        }
        if (end > back && (static_cast<unsigned char>(out[end - 1 - back]) & 0x80) != 0) {
            out.resize(end - 1 - back);
        }
    }
    return out;
}

const json::string* string_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? &v->get_string() : nullptr;
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 413:
            return "Payload Too Large";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

}  // namespace

std::string provider_error_message(std::string_view body) {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec || !value.is_object()) return {};
    const auto& o = value.get_object();
    if (const auto* e = o.if_contains("error")) {
        if (e->is_string()) return clean(e->get_string());
        if (e->is_object()) {
            if (const auto* m = string_at(e->get_object(), "message")) return clean(*m);
        }
    }
    if (const auto* m = string_at(o, "message")) return clean(*m);
    if (const auto* d = string_at(o, "detail")) return clean(*d);  // FastAPI-based servers
    return {};
}

std::string redact(std::string text, std::string_view key) {
    if (key.size() < 8) return text;
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
        text.replace(at, key.size(), "[redacted]");
    }
    return text;
}

Error http_status_error(std::string_view what,
                        int status,
                        std::string_view body,
                        std::string_view key) {
    Errc code = Errc::kInvalidRequest;
    if (status == 401 || status == 403) {
        code = Errc::kUnauthorized;
    } else if (status == 429) {
        code = Errc::kRateLimited;
    } else if (status >= 500) {
        code = Errc::kUnavailable;
    }
    std::string message = fmt::format("{} answered HTTP {}", what, status);
    if (const auto phrase = reason_phrase(status); !phrase.empty()) {
        message += fmt::format(" {}", phrase);
    }
    if (const auto detail = provider_error_message(body); !detail.empty()) {
        message += ": " + detail;
    }
    return make_error(code, redact(std::move(message), key));
}

}  // namespace tl::voice
