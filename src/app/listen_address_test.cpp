#include "app/listen_address.hpp"

#include <gtest/gtest.h>

namespace tl::app {
namespace {

TEST(ListenAddress, ParsesIpv4Ipv6AndLocalhost) {
    auto a = parse_listen_address("127.0.0.1:8080", "--api-listen");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 8080);
    auto b = parse_listen_address("[::1]:0", "--api-listen");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->host, "::1");
    EXPECT_EQ(b->to_string(), "[::1]:0");
    EXPECT_TRUE(parse_listen_address("localhost:5060", "--sip-listen"));
}

TEST(ListenAddress, RejectsWithTheFlagNamed) {
    for (auto bad : {"8080", "127.0.0.1", "127.0.0.1:70000", "::1:8080", "example.com:80",
                     "127.0.0.1:-1", "[::1]8080"}) {
        auto r = parse_listen_address(bad, "--api-listen");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("--api-listen"), std::string::npos);
    }
}

TEST(PortRange, Validates) {
    auto r = parse_port_range("10000-20000", "--rtp-ports");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->low, 10000);
    EXPECT_EQ(r->high, 20000);
    for (auto bad : {"20000-10000", "10000", "80-90", "10000-70000", "a-b", "10000-10000"}) {
        EXPECT_FALSE(parse_port_range(bad, "--rtp-ports")) << bad;
    }
}

}  // namespace
}  // namespace tl::app
