// The SSE parser against the WHATWG examples and the way OpenAI-compatible servers stream.

#include "voice/providers/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tl::voice {
namespace {

std::vector<SseEvent> parse_all(std::string_view stream) {
    SseParser parser;
    auto events = parser.feed(stream);
    EXPECT_TRUE(events) << events.error().message;
    return events ? *events : std::vector<SseEvent>{};
}

// Feeds `stream` cut at every position in `cuts` and returns all events.
std::vector<SseEvent> parse_split(std::string_view stream, std::size_t piece) {
    SseParser parser;
    std::vector<SseEvent> all;
    for (std::size_t i = 0; i < stream.size(); i += piece) {
        auto events = parser.feed(stream.substr(i, piece));
        EXPECT_TRUE(events);
        if (!events) return all;
        all.insert(all.end(), events->begin(), events->end());
    }
    return all;
}

std::vector<std::string> datas(const std::vector<SseEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.data);
    return out;
}

constexpr std::string_view kOpenAiStream =
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
    "\"\"},\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Gr\xC3\xBC\xC3\x9F"
    "e\"},\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\r"
    "data: [DONE]\n\n";

TEST(SseParser, OpenAiStreamGivesOneEventPerDataLine) {
    auto events = parse_all(kOpenAiStream);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].type, "message");
    EXPECT_NE(events[1].data.find("Gr\xC3\xBC\xC3\x9F"
                                  "e"),
              std::string::npos);
    EXPECT_EQ(events[3].data, "[DONE]");
}

TEST(SseParser, EverySplitOfTheStreamGivesTheSameEvents) {
    const auto whole = datas(parse_all(kOpenAiStream));
    for (std::size_t piece = 1; piece <= 17; ++piece) {
        EXPECT_EQ(datas(parse_split(kOpenAiStream, piece)), whole) << "pieces of " << piece;
    }
}

TEST(SseParser, CrlfSplitBetweenChunksIsOneLineEnd) {
    SseParser parser;
    auto a = parser.feed("data: one\r");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->empty());
    // The LF completes the CRLF; the next CRLF is the blank line that dispatches.
    auto b = parser.feed("\n\r");
    ASSERT_TRUE(b);
    ASSERT_EQ(b->size(), 1u);
    EXPECT_EQ((*b)[0].data, "one");
    auto c = parser.feed("\ndata: two\n\n");
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 1u);  // the LF after the CR did not make another (empty) line
    EXPECT_EQ((*c)[0].data, "two");
}

TEST(SseParser, WhatwgFieldRules) {
    // Multi-line data joined with LF; one leading space removed, not two; a line without a colon
    // is a field with an empty value; unknown fields ignored; event and id fields.
    auto events = parse_all(
        "data: first\ndata:  second\ndata\nfoo: bar\n\n"
        "event: update\nid: 42\nretry: 1000\ndata:x\n\n"
        "data: after\n\n");
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].data, "first\n second\n");
    EXPECT_EQ(events[0].type, "message");
    EXPECT_EQ(events[1].type, "update");
    EXPECT_EQ(events[1].data, "x");
    EXPECT_EQ(events[1].id, "42");
    EXPECT_EQ(events[2].type, "message");  // the event type does not carry over
    EXPECT_EQ(events[2].id, "42");         // the last event id does
}

TEST(SseParser, EventsWithoutDataAreNotDispatched) {
    auto events = parse_all("event: ping\n\n: comment\n\n\n\ndata:\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "");
    EXPECT_EQ(events[0].type, "message");
}

TEST(SseParser, LeadingBomIsSkippedEvenWhenSplit) {
    SseParser parser;
    ASSERT_TRUE(parser.feed("\xEF\xBB"));
    auto events = parser.feed(
        "\xBF"
        "data: hi\n\n");
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].data, "hi");
}

TEST(SseParser, UnfinishedEventIsReportedAsPartial) {
    SseParser parser;
    ASSERT_TRUE(parser.feed("data: {\"choices\":"));
    EXPECT_TRUE(parser.has_partial_event());
    ASSERT_TRUE(parser.feed("[]}\n"));
    EXPECT_TRUE(parser.has_partial_event());  // no blank line yet
    auto events = parser.feed("\n");
    ASSERT_TRUE(events);
    EXPECT_EQ(events->size(), 1u);
    EXPECT_FALSE(parser.has_partial_event());
}

TEST(SseParser, OversizedEventIsAnError) {
    SseParser parser(64);
    auto ok = parser.feed("data: " + std::string(40, 'a') + "\n\n");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->size(), 1u);
    auto too_long_line = parser.feed("data: " + std::string(100, 'b'));
    ASSERT_FALSE(too_long_line);
    EXPECT_EQ(too_long_line.error().code, Errc::kUnavailable);
    EXPECT_NE(too_long_line.error().message.find("larger than 64 bytes"), std::string::npos);
    EXPECT_FALSE(parser.feed("\n\n"));  // unusable afterwards

    SseParser many_lines(64);
    std::string stream;
    for (int i = 0; i < 20; ++i) stream += "data: 0123456789\n";
    EXPECT_FALSE(many_lines.feed(stream));
}

}  // namespace
}  // namespace tl::voice
