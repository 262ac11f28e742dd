#include "net/tls_client_context.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ssl/context.hpp>

namespace tl::net {
namespace {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> verifying_context() {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    // TLS 1.0/1.1 are deprecated (RFC 8996); compression and renegotiation are off by default.
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    ctx->set_verify_mode(ssl::verify_peer, ec);  // cannot fail: it only sets a flag
    if (ctx->set_default_verify_paths(ec); ec) {
        spdlog::warn("[tls] cannot load the system CA store: {}", ec.message());
    }
    return ctx;
}

}  // namespace

Result<TlsClientContext> TlsClientContext::create(const std::string& ca_file) {
    auto ctx = verifying_context();
    if (!ca_file.empty()) {
        boost::system::error_code ec;
        if (ctx->load_verify_file(ca_file, ec); ec) {
            return make_error(Errc::kInvalidRequest, "CA file '" + ca_file + "': " + ec.message() +
                                                         " (expected PEM certificates)");
        }
    }
    return TlsClientContext(std::move(ctx), ca_file);
}

TlsClientContext TlsClientContext::system_default() { return {verifying_context(), {}}; }

}  // namespace tl::net
