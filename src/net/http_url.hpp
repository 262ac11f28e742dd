#pragma once
// Splits an http:// or https:// URL into what a client needs to connect and send a request.

#include <boost/system/result.hpp>
#include <string>

namespace tl::net {

enum class Scheme { kHttp, kHttps };

struct HttpUrl {
    Scheme scheme = Scheme::kHttp;
    std::string host;         // for the resolver, TLS SNI and certificate checks: IPv6 unbracketed
    std::string port;         // decimal; 80 or 443 when the URL has none
    std::string target;       // origin-form (RFC 9112 §3.2.1): path + query, "/" at least
    std::string host_header;  // the authority without userinfo, as the Host header wants it
};

struct UrlError {
    bool unsupported_scheme = false;  // a URL, but not http(s)
    std::string message;
};

boost::system::result<HttpUrl, UrlError> parse_http_url(const std::string& url);

// True for an IPv4 or IPv6 literal (TLS: no SNI, the certificate must name the IP).
bool is_ip_literal(const std::string& host);

}  // namespace tl::net
