#include "sip/capture/message_summary.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tl::sip::detail {
namespace {

struct Case {
    std::string_view raw;
    std::string_view method;
    int status;
    std::string_view reason;
    std::string_view cseq_method;
    bool keep_alive;
};

constexpr Case kCases[] = {
    {"INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", "INVITE", 0, "", "INVITE", false},
    {"SIP/2.0 200 OK\r\nVia: x\r\ncseq :  2   BYE \r\n\r\n", "", 200, "OK", "BYE", false},
    {"SIP/2.0 183 Session Progress\nCSeq: 1 INVITE\n", "", 183, "Session Progress", "INVITE",
     false},
    {"SIP/2.0 500\r\nCSeq: 1 INVITE\r\n\r\n", "", 500, "", "INVITE", false},
    {"SIP/2.0 603   Decline  \r\n\r\nCSeq: 1 INVITE\r\n", "", 603, "Decline", "", false},
    {"\r\nOPTIONS sip:x SIP/2.0\r\n\r\n", "OPTIONS", 0, "", "", false},
    {"SIP/2.0 2000 OK\r\n", "", 0, "", "", false},
    {"SIP/2.0 abc OK\r\n", "", 0, "", "", false},
    {"SIP/2.0\r\nCSeq: 1\r\n", "", 0, "", "", false},
    {"\r\n\r\n", "", 0, "", "", true},
    {"", "", 0, "", "", true},
    {"garbage", "garbage", 0, "", "", false},
};

TEST(MessageSummary, ReadsStartLineAndCSeq) {
    for (const auto& c : kCases) {
        SCOPED_TRACE(std::string(c.raw));
        const auto s = summarize_message(c.raw);
        EXPECT_EQ(s.method, c.method);
        EXPECT_EQ(s.status, c.status);
        EXPECT_EQ(s.reason, c.reason);
        EXPECT_EQ(s.cseq_method, c.cseq_method);
        EXPECT_EQ(s.keep_alive, c.keep_alive);
    }
}

}  // namespace
}  // namespace tl::sip::detail
