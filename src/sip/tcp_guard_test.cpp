#include "sip/tcp_guard.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace tl::sip {
namespace {

// Real rows as the kernel prints them (header, a listener, an established peer, CLOSE_WAIT).
constexpr std::string_view kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:13C4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "812345 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:13C4 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
    "812399 1 0000000000000000 20 4 30 10 -1\n"
    "   2: 0100007F:13C4 0A00A8C0:C350 08 00000000:00000000 00:00000000 00000000     0        0 "
    "812400 1 0000000000000000 20 4 30 10 -1\n"
    "   3: garbage row\n";

constexpr std::string_view kTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:13C4 0000000000000000FFFF00000100007F:9C40 01 "
    "00000000:00000000 00:00000000 00000000     0        0 900001 1 0000000000000000 20 4 1 10 "
    "-1\n"
    "   1: 00000000000000000000000001000000:13C4 00000000000000000000000001000000:9C41 01 "
    "00000000:00000000 00:00000000 00000000     0        0 900002 1 0000000000000000 20 4 1 10 "
    "-1\n";

TEST(ProcNetTcp, ParsesIpv4Rows) {
    const auto rows = parse_proc_net_tcp(kTcp, false);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].local_ip, "127.0.0.1");
    EXPECT_EQ(rows[0].local_port, 5060);
    EXPECT_EQ(rows[0].state, 10);
    EXPECT_EQ(rows[1].remote_ip, "127.0.0.1");
    EXPECT_EQ(rows[1].remote_port, 54321);
    EXPECT_EQ(rows[1].state, 1);
    EXPECT_EQ(rows[1].inode, 812399u);
    EXPECT_EQ(rows[2].remote_ip, "192.168.0.10");
    EXPECT_EQ(rows[2].state, 8);
}

TEST(ProcNetTcp, ParsesIpv6RowsAndMappedIpv4) {
    const auto rows = parse_proc_net_tcp(kTcp6, true);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].local_ip, "::1");
    EXPECT_EQ(rows[0].remote_ip, "127.0.0.1");
    EXPECT_EQ(rows[0].remote_port, 40000);
    EXPECT_EQ(rows[1].remote_ip, "::1");
    EXPECT_EQ(rows[1].inode, 900002u);
}

TEST(ProcNetTcp, SurvivesGarbage) {
    EXPECT_TRUE(parse_proc_net_tcp("", false).empty());
    EXPECT_TRUE(parse_proc_net_tcp("header only", false).empty());
    EXPECT_TRUE(parse_proc_net_tcp("h\n 0: ZZ:1 00:0 01 a b c d e f\n", false).empty());
}

TEST(ConnectionCaps, NewestOfASourceOverItsCapGoFirst) {
    const std::vector<std::string> sources = {"a", "a", "b", "a", "a"};
    EXPECT_EQ(connections_over_limits(sources, 2, 100), (std::vector<std::size_t>{3, 4}));
    EXPECT_TRUE(connections_over_limits(sources, 4, 100).empty());
}

TEST(ConnectionCaps, TotalCapTakesFromTheBusiestSource) {
    const std::vector<std::string> sources = {"a", "b", "a", "c", "a", "b"};
    // Per source fine; 6 > 4 in total: a's newest goes, then a and b are tied at 2 and the
    // newest connection of the two (b's) goes.
    EXPECT_EQ(connections_over_limits(sources, 10, 4), (std::vector<std::size_t>{4, 5}));
    EXPECT_EQ(connections_over_limits(sources, 10, 3), (std::vector<std::size_t>{2, 4, 5}));
}

TEST(ConnectionCaps, ThousandsOfConnectionsFromOneSource) {
    std::vector<std::string> sources(5000, "attacker");
    sources.push_back("carrier");
    const auto shut = connections_over_limits(sources, 32, 1000);
    EXPECT_EQ(shut.size(), 5000u - 32u);
    EXPECT_EQ(std::count(shut.begin(), shut.end(), 5000u), 0);  // the carrier keeps its one
}

}  // namespace
}  // namespace tl::sip
