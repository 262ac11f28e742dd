#include "voice/providers/multipart.hpp"

#include <atomic>
#include <chrono>
#include <random>

namespace tl::voice {
namespace {

std::string random_boundary() {
    static std::atomic<unsigned> counter{0};
    thread_local std::mt19937_64 rng(
        std::random_device{}() ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    constexpr std::string_view kAlphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string b = "----TrunklineFormBoundary" + std::to_string(counter++);
    for (int i = 0; i < 24; ++i) b.push_back(kAlphabet[rng() % kAlphabet.size()]);
    return b;
}

// A name or filename inside a quoted-string: the HTML standard's form encoding escapes '"',
// CR and LF as %22, %0D and %0A (RFC 7578 §4.2 defers to it).
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"') {
            out += "%22";
        } else if (c == '\r') {
            out += "%0D";
        } else if (c == '\n') {
            out += "%0A";
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

}  // namespace

MultipartForm::MultipartForm(std::string boundary)
    : boundary_(boundary.empty() ? random_boundary() : std::move(boundary)) {}

void MultipartForm::add_field(std::string name, std::string value) {
    parts_.push_back(Part{std::move(name), {}, {}, std::move(value)});
}

void MultipartForm::add_file(std::string name,
                             std::string filename,
                             std::string content_type,
                             std::string content) {
    parts_.push_back(
        Part{std::move(name), std::move(filename), std::move(content_type), std::move(content)});
}

std::string MultipartForm::content_type() const {
    return "multipart/form-data; boundary=" + boundary_;
}

std::string MultipartForm::finish() {
    auto collides = [this] {
        for (const auto& p : parts_) {
            if (p.content.find(boundary_) != std::string::npos) return true;
        }
        return false;
    };
    while (collides()) boundary_ = random_boundary();
    std::string body;
    for (const auto& p : parts_) {
        body += "--" + boundary_ + "\r\n";
        body += "Content-Disposition: form-data; name=" + quote(p.name);
        if (!p.filename.empty()) body += "; filename=" + quote(p.filename);
        body += "\r\n";
        if (!p.content_type.empty()) body += "Content-Type: " + p.content_type + "\r\n";
        body += "\r\n";
        body += p.content;
        body += "\r\n";
    }
    body += "--" + boundary_ + "--\r\n";
    return body;
}

}  // namespace tl::voice
