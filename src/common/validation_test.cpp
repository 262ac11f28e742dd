#include "common/validation.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(Validation, E164) {
    for (auto ok : {"+31850835037", "+12", "+123456789012345"}) EXPECT_TRUE(is_e164(ok)) << ok;
    for (auto bad : {"31850835037", "+0123", "+1", "+1234567890123456", "+31 85", "+31-85", ""}) {
        EXPECT_FALSE(is_e164(bad)) << bad;
    }
}

TEST(Validation, Hosts) {
    for (auto ok : {"pbx.example.com", "localhost", "192.168.1.100", "2001:db8::1", "[2001:db8::1]",
                    "sip-1.provider.eu.", "a"}) {
        EXPECT_TRUE(is_host(ok)) << ok;
    }
    for (auto bad : {"", "-pbx.example.com", "pbx..example.com", "pbx_example.com", "300.1.1.1",
                     "pbx.example.com:5060", "http://pbx", "[::1", "exa mple.com"}) {
        EXPECT_FALSE(is_host(bad)) << bad;
    }
}

TEST(Validation, Cidrs) {
    for (auto ok : {"203.0.113.0/24", "203.0.113.7", "2001:db8::/32", "0.0.0.0/0", "::1/128"}) {
        EXPECT_TRUE(is_cidr(ok)) << ok;
    }
    for (auto bad : {"203.0.113.0/33", "2001:db8::/129", "203.0.113.0/", "pbx/24", "1.2.3.4/x"}) {
        EXPECT_FALSE(is_cidr(bad)) << bad;
    }
}

TEST(Validation, EmbeddedNulIsNeverAnAddress) {
    using namespace std::string_view_literals;
    EXPECT_FALSE(is_host("1.2.3.4\0x"sv));  // found by fuzz_validation
    EXPECT_FALSE(is_cidr("10.0.0.0\0/8"sv));
    EXPECT_FALSE(is_ipv6("::1\0"sv));
    EXPECT_FALSE(cidr_contains("10.0.0.0/8", "10.0.0.1\0x"sv));
}

TEST(Validation, ToValidUtf8) {
    EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(to_valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
    EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(to_valid_utf8("\xF0\x9F\x93\x9E"), "\xF0\x9F\x93\x9E");
}

TEST(Validation, CidrContains) {
    EXPECT_TRUE(cidr_contains("203.0.113.0/24", "203.0.113.77"));
    EXPECT_FALSE(cidr_contains("203.0.113.0/24", "203.0.114.1"));
    EXPECT_TRUE(cidr_contains("203.0.113.7", "203.0.113.7"));
    EXPECT_FALSE(cidr_contains("203.0.113.7", "203.0.113.8"));
    EXPECT_TRUE(cidr_contains("0.0.0.0/0", "8.8.8.8"));
    EXPECT_TRUE(cidr_contains("2001:db8::/32", "2001:db8:1::5"));
    EXPECT_FALSE(cidr_contains("2001:db8::/32", "2001:db9::5"));
    EXPECT_FALSE(cidr_contains("203.0.113.0/24", "2001:db8::1"));
    EXPECT_FALSE(cidr_contains("garbage", "203.0.113.1"));
}

TEST(Validation, CidrsOverlap) {
    struct Case {
        std::string_view a, b;
        bool overlap;
    };
    const Case cases[] = {
        {"203.0.113.0/24", "203.0.113.0/24", true},     // the same range
        {"203.0.113.0/24", "203.0.113.77", true},       // a bare address inside (a /32)
        {"203.0.113.0/24", "203.0.113.128/25", true},   // a sub-range
        {"203.0.0.0/16", "203.0.113.0/24", true},       // a super-range
        {"203.0.113.0/24", "203.0.114.0/24", false},    // neighbours
        {"203.0.113.0/25", "203.0.113.128/25", false},  // the two halves of a /24
        {"203.0.113.7", "203.0.113.7", true},           // the same address
        {"203.0.113.7", "203.0.113.8", false},
        {"203.0.113.77/24", "203.0.113.1", true},  // host bits set in the network
        {"0.0.0.0/0", "198.51.100.1", true},       // everything
        {"10.0.0.0/8", "11.0.0.0/8", false},
        {"2001:db8::/32", "2001:db8:1::/48", true},
        {"2001:db8::/32", "2001:db9::/32", false},
        {"2001:db8::1", "2001:db8::1/128", true},
        {"2001:db8::1", "2001:db8::2", false},
        {"::/0", "2001:db8::1", true},
        {"2001:db8::/32", "203.0.113.0/24", false},      // the families do not meet...
        {"::/0", "203.0.113.0/24", true},                // ...except in ::ffff:0:0/96
        {"::ffff:203.0.113.9", "203.0.113.0/24", true},  // an IPv4-mapped address is IPv4
        {"::ffff:0:0/96", "0.0.0.0/0", true},
        {"garbage", "203.0.113.0/24", false},
        {"203.0.113.0/33", "203.0.113.0/24", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(cidrs_overlap(c.a, c.b), c.overlap) << c.a << " vs " << c.b;
        EXPECT_EQ(cidrs_overlap(c.b, c.a), c.overlap) << c.b << " vs " << c.a;  // symmetric
    }
    const auto v4 = parse_ip_network("203.0.113.0/24");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->prefix, 120);
    EXPECT_EQ(parse_ip_network("2001:db8::1")->prefix, 128);
    EXPECT_FALSE(parse_ip_network("203.0.113.0/"));
}

TEST(Validation, SipUris) {
    struct Case {
        std::string_view text;
        bool ok;
        std::string_view user, host;
        int port;
    };
    const Case cases[] = {
        {"sip:agent@pbx.example.com", true, "agent", "pbx.example.com", 0},
        {"sips:100@10.0.0.5:5061;transport=tls", true, "100", "10.0.0.5", 5061},
        {"sip:[2001:db8::1]:5070", true, "", "2001:db8::1", 5070},
        {"SIP:+31612345678@carrier.example;user=phone", true, "+31612345678", "carrier.example", 0},
        {"sip:user:pw@host.example", true, "user", "host.example", 0},
        {"sip:", false, "", "", 0},
        {"sip:@host", false, "", "", 0},
        {"sip:agent@", false, "", "", 0},
        {"http://pbx.example.com", false, "", "", 0},
        {"sip:agent@pbx.example.com:0", false, "", "", 0},
        {"sip:agent@pbx.example.com:70000", false, "", "", 0},
        {"sip:agent@pbx example.com", false, "", "", 0},
        {"sip:a\r\nb@host", false, "", "", 0},
        {"sip:tel:+31612345678", false, "", "", 0},
    };
    for (const auto& c : cases) {
        const auto uri = parse_sip_uri(c.text);
        EXPECT_EQ(uri.has_value(), c.ok) << c.text;
        if (c.ok && uri) {
            EXPECT_EQ(uri->user, c.user) << c.text;
            EXPECT_EQ(uri->host, c.host) << c.text;
            EXPECT_EQ(uri->port.value_or(0), c.port) << c.text;
        }
    }
}

TEST(Validation, TransferDestinations) {
    for (auto ok : {"+31612345678", "tel:+31612345678", "sip:sales@pbx.example.com"}) {
        EXPECT_TRUE(is_transfer_destination(ok)) << ok;
    }
    for (auto bad : {"0612345678", "tel:0612345678", "sales", "mailto:x@y.z", ""}) {
        EXPECT_FALSE(is_transfer_destination(bad)) << bad;
    }
}

TEST(Validation, SipTokens) {
    EXPECT_TRUE(is_sip_token("X-Customer-Id"));
    EXPECT_FALSE(is_sip_token("X Customer"));
    EXPECT_FALSE(is_sip_token("X:Y"));
    EXPECT_FALSE(is_sip_token(""));
}

}  // namespace
}  // namespace tl
