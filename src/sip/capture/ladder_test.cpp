#include "sip/capture/ladder.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::vector<std::size_t> bars(const std::string& line) {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '|') at.push_back(i);
    }
    return at;
}

TEST(Ladder, ReadsAsADiagram) {
    CaptureSnapshot s;
    s.messages = {test::transfer_call().messages[0], test::transfer_call().messages[3]};
    EXPECT_EQ(
        render_ladder(s),
        "trunkline = 10.0.0.5:5060\n"
        "                                  trunkline                       203.0.113.10:5060\n"
        "                                      |                                   |\n"
        "     +0.000s  UDP                     |<-------------INVITE---------------|\n"
        "     +1.234s  UDP                     |----------200 OK (INVITE)--------->|\n");
}

TEST(Ladder, TransferCallRowsInOrderWithArrowsFromSenderToReceiver) {
    const auto lines = lines_of(render_ladder(test::transfer_call()));
    const auto& rows = test::transfer_call_rows();
    ASSERT_EQ(lines.size(), 3 + rows.size());
    EXPECT_EQ(lines[0], "trunkline = 10.0.0.5:5060");

    // Columns: us, then the parties in the order they first appear.
    const auto lifelines = bars(lines[2]);
    ASSERT_EQ(lifelines.size(), 3u);
    const std::string& heads = lines[1];
    const std::vector<std::string> names{"trunkline", "203.0.113.10:5060", "198.51.100.20:5060"};
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::size_t at = heads.find(names[i]);
        ASSERT_NE(at, std::string::npos) << names[i];
        EXPECT_LE(at, lifelines[i]);
        EXPECT_GE(at + names[i].size(), lifelines[i]) << names[i] << " is over its lifeline";
    }

    const char* times[] = {"+0.000s",  "+0.001s",  "+0.040s",  "+1.234s",  "+1.290s",
                           "+15.000s", "+15.020s", "+18.500s", "+18.510s", "+60.000s",
                           "+60.001s", "+60.002s", "+60.100s"};
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::string& line = lines[3 + i];
        SCOPED_TRACE(line);
        EXPECT_EQ(line.find(times[i]), line.find_first_not_of(' '));
        EXPECT_NE(line.find("UDP"), std::string::npos);
        const std::string label = std::string(rows[i].label);
        const std::size_t at = line.find(label);
        ASSERT_NE(at, std::string::npos);
        // Nothing but the arrow's shaft around the label: no more text than the label.
        EXPECT_EQ(line[at - 1], '-');
        EXPECT_EQ(line[at + label.size()], '-');

        const std::size_t us = lifelines[0];
        const std::size_t them = lifelines[rows[i].remote_ip == test::kCarrierIp ? 1 : 2];
        EXPECT_EQ(line[us], '|');
        EXPECT_EQ(line[them], '|');
        EXPECT_GT(at, us);
        EXPECT_LT(at + label.size(), them);
        if (rows[i].direction == Direction::kOut) {
            EXPECT_EQ(line.substr(them - 2, 2), "->");
            EXPECT_EQ(line.find('<'), std::string::npos);
        } else {
            EXPECT_EQ(line.substr(us + 1, 2), "<-");
            EXPECT_EQ(line.find('>'), std::string::npos);
        }
        // An arrow to the carrier stops there; one to the desk crosses the carrier's lifeline.
        if (them == lifelines[1]) {
            EXPECT_EQ(line.size(), them + 1 + (lifelines[2] - them));  // the desk's lifeline next
            EXPECT_EQ(line.substr(them + 1).find_first_not_of(' '), lifelines[2] - them - 1);
        } else {
            EXPECT_NE(line[lifelines[1]], '|');
        }
    }
}

TEST(Ladder, FourPartiesFitInOneHundredTwentyColumns) {
    CaptureSnapshot s;
    const std::string v6 = "2001:db8:85a3:1234:5678:8a2e:370:7334";
    s.messages = {
        test::message(0, Direction::kOut, v6, "INVITE sip:x SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n"),
        test::message(10, Direction::kIn, v6,
                      "SIP/2.0 183 Session Progress\r\nCSeq: 1 INVITE\r\n\r\n", "tls"),
        test::message(20, Direction::kOut, "192.0.2.1",
                      "SUBSCRIBE sip:x SIP/2.0\r\nCSeq: 1 SUBSCRIBE\r\n\r\n"),
        test::message(30, Direction::kIn, "192.0.2.2",
                      "SIP/2.0 503 Service Unavailable Because The Carrier Is Down For Good\r\n"
                      "CSeq: 1 INVITE\r\n\r\n"),
        test::message(40, Direction::kIn, "192.0.2.2", "\r\n\r\n", "tcp"),
        test::message(3'600'040, Direction::kIn, "192.0.2.1", "OPTIONS sip:x SIP/2.0\r\n\r\n"),
    };
    s.messages[2].local_ip = "::1";
    const std::string ladder = render_ladder(s);
    const auto lines = lines_of(ladder);
    for (const auto& line : lines) EXPECT_LE(line.size(), 120u) << line;
    EXPECT_EQ(lines[0], "trunkline = 10.0.0.5:5060, [::1]:5060");
    // The IPv6 address is too wide for its column: abbreviated in the head, in full above.
    EXPECT_NE(ladder.find(" = [" + v6 + "]:5060\n"), std::string::npos) << ladder;
    EXPECT_NE(ladder.find("|<-183 Session Progress--|"), std::string::npos) << ladder;
    EXPECT_NE(
        ladder.find("-503 Service Unavailable Because The Carrier Is Down For Good (INVITE)-"),
        std::string::npos)
        << ladder;
    EXPECT_NE(ladder.find("keep-alive (CRLF)"), std::string::npos);
    EXPECT_NE(ladder.find("+3600.040s  UDP"), std::string::npos);
}

TEST(Ladder, LongLabelsAreShortenedToFit) {
    CaptureSnapshot s;
    for (int i = 0; i < 4; ++i) {
        s.messages.push_back(
            test::message(i, Direction::kIn, "192.0.2." + std::to_string(i + 1),
                          "SIP/2.0 183 Session Progress\r\nCSeq: 1 INVITE\r\n\r\n"));
    }
    s.messages.push_back(test::message(9, Direction::kOut, "192.0.2.1",
                                       "AVERYLONGEXTENSIONMETHODNAME sip:x SIP/2.0\r\n\r\n"));
    const auto lines = lines_of(render_ladder(s));
    // Five parties make columns too narrow for the reason phrase between neighbours, but not
    // for an arrow that spans two columns.
    EXPECT_NE(lines[3].find("-183 (INVITE)-"), std::string::npos) << lines[3];
    EXPECT_NE(lines[4].find("183 Session Progress (INVITE)"), std::string::npos) << lines[4];
    EXPECT_NE(lines.back().find("-AVERYLO..ODNAME-"), std::string::npos) << lines.back();
}

TEST(Ladder, SaysWhenTruncated) {
    auto s = test::transfer_call();
    s.truncated = true;
    const auto lines = lines_of(render_ladder(s));
    EXPECT_EQ(lines.back(), "... capture truncated: later messages of this call were not kept");
    EXPECT_EQ(render_ladder({}), "(no SIP messages captured)\n");
}

TEST(Ladder, RowsAreOldestFirst) {
    auto s = test::transfer_call();
    std::swap(s.messages[1], s.messages[9]);
    EXPECT_EQ(render_ladder(s), render_ladder(test::transfer_call()));
}

TEST(Ladder, WritesNothingATerminalWouldInterpret) {
    CaptureSnapshot s;
    s.messages = {test::message(0, Direction::kIn, "192.0.2.1\x1b[2J",
                                "\x1b]0;owned\x07 sip:x SIP/2.0\r\n\r\n", "u\tdp")};
    const std::string ladder = render_ladder(s);
    for (const char c : ladder) EXPECT_TRUE(c == '\n' || (c >= 0x20 && c <= 0x7e)) << int(c);
    EXPECT_NE(ladder.find("?]0;owned?"), std::string::npos) << ladder;
}

}  // namespace
}  // namespace tl::sip
