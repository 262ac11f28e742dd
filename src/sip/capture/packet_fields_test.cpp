#include "sip/capture/packet_fields.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sip/capture/test_call.hpp"

namespace tl::sip::detail {
namespace {

TEST(PacketFields, ParsesAddresses) {
    const auto v4 = parse_ip("192.0.2.1");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->family, IpFamily::kV4);
    EXPECT_EQ(v4->view().size(), 4u);
    EXPECT_EQ(v4->bytes[0], 192);
    EXPECT_EQ(v4->bytes[3], 1);
    const auto v6 = parse_ip("[fe80::1%eth0]");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family, IpFamily::kV6);
    EXPECT_EQ(v6->view().size(), 16u);
    EXPECT_EQ(v6->bytes[0], 0xfe);
    EXPECT_EQ(v6->bytes[15], 1);
    EXPECT_FALSE(parse_ip(""));
    EXPECT_FALSE(parse_ip("example.com"));
    EXPECT_FALSE(parse_ip("1.2.3.4.5"));
    EXPECT_FALSE(parse_ip(std::string("1.2.3.4\0", 8)));
}

TEST(PacketFields, SenderAndReceiverFollowTheDirection) {
    auto m = test::message(0, Direction::kOut, test::kCarrierIp, "x");
    m.remote_port = 5070;
    auto e = packet_endpoints(m);
    EXPECT_EQ(e.family, IpFamily::kV4);
    EXPECT_EQ(e.source.bytes[3], 5);
    EXPECT_EQ(e.destination.bytes[0], 203);
    EXPECT_EQ(e.source_port, 5060);
    EXPECT_EQ(e.destination_port, 5070);
    m.direction = Direction::kIn;
    e = packet_endpoints(m);
    EXPECT_EQ(e.source.bytes[0], 203);
    EXPECT_EQ(e.destination.bytes[3], 5);
    EXPECT_EQ(e.source_port, 5070);
    EXPECT_EQ(e.destination_port, 5060);
}

TEST(PacketFields, StreamTransports) {
    EXPECT_TRUE(is_stream_transport("tcp"));
    EXPECT_TRUE(is_stream_transport("TLS"));
    EXPECT_TRUE(is_stream_transport("wss"));
    EXPECT_FALSE(is_stream_transport("udp"));
    EXPECT_FALSE(is_stream_transport(""));
}

TEST(PacketFields, UnixTime) {
    using namespace std::chrono;
    EXPECT_EQ(unix_time(test::call_start()).seconds, 1796670826u);
    EXPECT_EQ(unix_time(test::call_start()).microseconds, 123456u);
    EXPECT_EQ(unix_time(system_clock::time_point{} - seconds{5}).seconds, 0u);
    EXPECT_EQ(unix_time(system_clock::time_point{} + hours{24 * 365 * 200}).seconds, 0xffffffffu);
}

}  // namespace
}  // namespace tl::sip::detail
