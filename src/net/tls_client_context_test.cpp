#include "net/tls_client_context.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir.hpp"
#include "net/test_certs.hpp"

namespace tl::net {
namespace {

TEST(TlsClientContext, LoadsAPemCaFile) {
    testing::TestCa ca;
    auto tls = TlsClientContext::create(ca.ca_file());
    ASSERT_TRUE(tls) << tls.error().message;
    EXPECT_EQ(tls->ca_file(), ca.ca_file());
}

TEST(TlsClientContext, WithoutACaFileTrustsTheSystemStore) {
    auto tls = TlsClientContext::create();
    ASSERT_TRUE(tls) << tls.error().message;
    EXPECT_EQ(tls->ca_file(), "");
}

TEST(TlsClientContext, AnUnusableCaFileIsAStartUpErrorNamingTheFile) {
    TempDir dir("tl_net_tls");
    const std::string missing = (dir.path() / "missing.pem").string();
    const std::string not_pem = (dir.path() / "not.pem").string();
    std::ofstream(not_pem) << "this is not a certificate\n";
    for (const auto& path : {missing, not_pem}) {
        auto tls = TlsClientContext::create(path);
        ASSERT_FALSE(tls) << path;
        EXPECT_NE(tls.error().message.find(path), std::string::npos) << tls.error().message;
    }
}

}  // namespace
}  // namespace tl::net
