#include "sip/dtmf_info.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace tl::sip {
namespace {

struct Case {
    std::string_view content_type;
    std::string_view body;
    char digit;  // 0: refused
    int duration_ms;
};

constexpr Case kCases[] = {
    {"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160},
    {"Application/DTMF-Relay; charset=utf-8", "signal= #\r\nduration = 250", '#', 250},
    {"application/dtmf-relay", "Duration=100\nSignal=*\n", '*', 100},
    {"application/dtmf-relay", "Signal=11\r\nDuration=160\r\n", '#', 160},  // event number
    {"application/dtmf-relay", "Signal=10\r\n", '*', 0},
    {"application/dtmf-relay", "Signal=d\r\n", 'D', 0},
    {"application/dtmf-relay", "Signal=5\r\nDuration=huge\r\n", '5', 0},
    {"application/dtmf-relay", "Signal=5\r\nDuration=99999999\r\n", '5', 0},
    {"application/dtmf-relay", "Signal=5\r\nDuration=120000\r\n", '5', 60000},
    {"application/dtmf", "7", '7', 0},
    {"application/dtmf", "7\r\n", '7', 0},
    {"application/dtmf", " a ", 'A', 0},
    // Refused: no digit, several digits, garbage, other types.
    {"application/dtmf-relay", "", 0, 0},
    {"application/dtmf-relay", "Duration=160\r\n", 0, 0},
    {"application/dtmf-relay", "Signal=55\r\n", 0, 0},
    {"application/dtmf-relay", "Signal=\r\n", 0, 0},
    {"application/dtmf-relay", "Signal=E\r\n", 0, 0},
    {"application/dtmf-relay", "Signal=16\r\n", 0, 0},
    {"application/dtmf", "", 0, 0},
    {"application/dtmf", "12", 0, 0},
    {"application/sdp", "Signal=5", 0, 0},
    {"text/plain", "5", 0, 0},
};

TEST(DtmfInfo, ParsesRelayAndPlainBodies) {
    for (const auto& c : kCases) {
        SCOPED_TRACE(std::string(c.content_type) + " | " + std::string(c.body));
        const auto parsed = parse_dtmf_info(c.content_type, c.body);
        if (c.digit == 0) {
            EXPECT_FALSE(parsed);
            continue;
        }
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->digit, c.digit);
        EXPECT_EQ(parsed->duration_ms, c.duration_ms);
    }
}

TEST(DtmfInfo, KnowsItsContentTypes) {
    EXPECT_TRUE(is_dtmf_info_type("application/dtmf-relay"));
    EXPECT_TRUE(is_dtmf_info_type("APPLICATION/DTMF"));
    EXPECT_TRUE(is_dtmf_info_type(" application/dtmf ;x=y"));
    EXPECT_FALSE(is_dtmf_info_type("application/sdp"));
    EXPECT_FALSE(is_dtmf_info_type("application/dtmf-relayx"));
    EXPECT_FALSE(is_dtmf_info_type(""));
}

}  // namespace
}  // namespace tl::sip
