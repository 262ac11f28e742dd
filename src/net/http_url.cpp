#include "net/http_url.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

namespace tl::net {

boost::system::result<HttpUrl, UrlError> parse_http_url(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return UrlError{false, "not a valid URL"};
    HttpUrl u;
    if (parsed->scheme() == "http") {
        u.scheme = Scheme::kHttp;
    } else if (parsed->scheme() == "https") {
        u.scheme = Scheme::kHttps;
    } else {
        return UrlError{true, "unsupported URL scheme '" + std::string(parsed->scheme()) + "'"};
    }
    u.host = parsed->encoded_host_address().decode();
    if (u.host.empty()) return UrlError{false, "the URL has no host"};
    // An IPv6 literal keeps its brackets in the Host header but not for the resolver.
    if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
    const bool tls = u.scheme == Scheme::kHttps;
    u.port = parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80");
    unsigned port = 0;
    auto [end, ec] = std::from_chars(u.port.data(), u.port.data() + u.port.size(), port);
    if (ec != std::errc() || end != u.port.data() + u.port.size() || port == 0 || port > 65535) {
        return UrlError{false, "invalid port in the URL"};
    }
    u.host_header = std::string(parsed->encoded_authority());
    if (auto at = u.host_header.rfind('@'); at != std::string::npos) {
        u.host_header = u.host_header.substr(at + 1);  // never send userinfo in Host
    }
    u.target =
        parsed->encoded_path().empty() ? std::string("/") : std::string(parsed->encoded_path());
    if (parsed->has_query()) {
        u.target.push_back('?');
        u.target.append(parsed->encoded_query().data(), parsed->encoded_query().size());
    }
    return u;
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    return !ec;
}

}  // namespace tl::net
