#pragma once
// The TLS settings shared by every HTTPS connection of an HttpClient: TLS 1.2 or newer, the peer's
// certificate verified against the system CA store (OpenSSL's default paths) plus, optionally, the
// PEM certificates of one CA file (a private CA, or a test CA). Host names are checked per
// connection (http_client.cpp), since one context serves every host.
//
// Thread-safety: a created context is immutable and may be shared by clients on any thread
// (OpenSSL's SSL_CTX is safe to create connections from concurrently).

#include <memory>
#include <string>

#include "common/error.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tl::net {

class TlsClientContext {
public:
    // Fails, naming the file and OpenSSL's reason, when `ca_file` cannot be read or holds no
    // certificate: a start-up error to fix, not something to find out at the first request.
    static Result<TlsClientContext> create(const std::string& ca_file = {});

    // The system CA store only. Never fails: without a usable store every HTTPS request fails
    // its certificate check (HttpErrc::kTls) and says so.
    static TlsClientContext system_default();

    boost::asio::ssl::context& native() const { return *context_; }
    const std::string& ca_file() const { return ca_file_; }

private:
    TlsClientContext(std::shared_ptr<boost::asio::ssl::context> context, std::string ca_file)
        : context_(std::move(context)), ca_file_(std::move(ca_file)) {}

    std::shared_ptr<boost::asio::ssl::context> context_;
    std::string ca_file_;
};

}  // namespace tl::net
