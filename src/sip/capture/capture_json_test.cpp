#include "sip/capture/capture_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>
#include <string_view>

#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

void expect_same(const CaptureSnapshot& a, const CaptureSnapshot& b) {
    EXPECT_EQ(a.truncated, b.truncated);
    ASSERT_EQ(a.messages.size(), b.messages.size());
    for (std::size_t i = 0; i < a.messages.size(); ++i) {
        SCOPED_TRACE(i);
        const auto& x = a.messages[i];
        const auto& y = b.messages[i];
        EXPECT_EQ(x.timestamp, y.timestamp);
        EXPECT_EQ(x.direction, y.direction);
        EXPECT_EQ(x.transport, y.transport);
        EXPECT_EQ(x.local_ip, y.local_ip);
        EXPECT_EQ(x.local_port, y.local_port);
        EXPECT_EQ(x.remote_ip, y.remote_ip);
        EXPECT_EQ(x.remote_port, y.remote_port);
        EXPECT_EQ(x.raw, y.raw);
    }
}

TEST(CaptureJson, WritesTheDocumentedShape) {
    CaptureSnapshot s;
    CapturedMessage m;
    m.timestamp = test::call_start();
    m.direction = Direction::kIn;
    m.transport = "udp";
    m.local_ip = "127.0.0.1";
    m.local_port = 5060;
    m.remote_ip = "::1";
    m.remote_port = 5070;
    m.raw = "OPTIONS sip:a SIP/2.0\r\n\r\n";
    s.messages.push_back(m);
    m.direction = Direction::kOut;
    m.timestamp += std::chrono::microseconds{1'000'001};
    m.transport = "tls";
    m.local_ip = "2001:db8::5";
    m.remote_ip = "192.0.2.1";
    s.messages.push_back(m);
    s.truncated = true;
    EXPECT_EQ(boost::json::serialize(capture_to_json(s)),
              R"({"messages":[)"
              R"({"timestamp":"2026-12-07T19:13:46.123456Z","direction":"in","transport":"udp",)"
              R"("local_address":"127.0.0.1:5060","remote_address":"[::1]:5070",)"
              R"("raw":"OPTIONS sip:a SIP/2.0\r\n\r\n"},)"
              R"({"timestamp":"2026-12-07T19:13:47.123457Z","direction":"out","transport":"tls",)"
              R"("local_address":"[2001:db8::5]:5060","remote_address":"192.0.2.1:5070",)"
              R"("raw":"OPTIONS sip:a SIP/2.0\r\n\r\n"}],"truncated":true})");
}

TEST(CaptureJson, WritesOldestFirst) {
    auto s = test::transfer_call();
    std::swap(s.messages[0], s.messages[5]);
    const auto back = capture_from_json(boost::json::serialize(capture_to_json(s)));
    ASSERT_TRUE(back) << back.error().message;
    expect_same(*back, test::transfer_call());
}

TEST(CaptureJson, RoundTrips) {
    auto s = test::transfer_call();
    s.messages[3].local_ip = "fe80::1%eth0";
    s.messages[3].remote_ip = "2001:db8::10";
    s.messages[4].transport = "tcp";
    s.messages[4].raw = std::string("quote \" backslash \\ tab \t nul \0 end", 35);
    s.messages[5].timestamp -= std::chrono::hours{24 * 365 * 60};  // 1966: before the epoch
    std::stable_sort(s.messages.begin(), s.messages.end(),
                     [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
    s.truncated = true;
    const auto back = capture_from_json(boost::json::serialize(capture_to_json(s)));
    ASSERT_TRUE(back) << back.error().message;
    expect_same(*back, s);
}

TEST(CaptureJson, EmptyCaptureRoundTrips) {
    const CaptureSnapshot empty;
    EXPECT_EQ(boost::json::serialize(capture_to_json(empty)),
              R"({"messages":[],"truncated":false})");
    const auto back = capture_from_json(R"({"messages":[],"truncated":false})");
    ASSERT_TRUE(back);
    expect_same(*back, empty);
}

TEST(CaptureJson, BytesThatAreNotUtf8BecomeReplacementCharacters) {
    CaptureSnapshot s;
    s.messages.push_back(
        test::message(0, Direction::kIn, test::kCarrierIp,
                      "From: \"J\xfcrgen\" <sip:j@x>\r\nSubject: \xc3\xa9t\xc3\xa9"));
    const std::string json = boost::json::serialize(capture_to_json(s));
    const auto back = capture_from_json(json);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->messages[0].raw,
              "From: \"J\xef\xbf\xbdrgen\" <sip:j@x>\r\nSubject: \xc3\xa9t\xc3\xa9");
}

TEST(CaptureJson, ReadsMillisecondsAndIgnoresUnknownMembers) {
    const auto back = capture_from_json(
        R"({"version":2,"truncated":false,"messages":[{"timestamp":"2026-12-07T19:13:46.123Z",)"
        R"("direction":"out","transport":"udp","local_address":"10.0.0.5:5060",)"
        R"("remote_address":"[2001:db8::1]:5062","raw":"x","note":"hand-written"}]})");
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->messages.size(), 1u);
    EXPECT_EQ(back->messages[0].timestamp, test::call_start() - std::chrono::microseconds{456});
    EXPECT_EQ(back->messages[0].remote_ip, "2001:db8::1");
    EXPECT_EQ(back->messages[0].remote_port, 5062);
}

struct Malformed {
    std::string_view json;
    std::string_view field;
};

constexpr std::string_view kGood =
    R"({"timestamp":"2026-12-07T19:13:46.123456Z","direction":"in","transport":"udp",)"
    R"("local_address":"127.0.0.1:5060","remote_address":"[::1]:5070","raw":"x"})";

TEST(CaptureJson, RefusesMalformedDocuments) {
    const auto with = [](std::string_view from, std::string_view to) {
        std::string message(kGood);
        message.replace(message.find(from), from.size(), to);
        return R"({"messages":[)" + message + R"(],"truncated":false})";
    };
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", ""},
        {"{", ""},
        {"[]", ""},
        {"null", ""},
        {R"({"messages":[]})", "truncated"},
        {R"({"truncated":false})", "messages"},
        {R"({"messages":{},"truncated":false})", "messages"},
        {R"({"messages":[],"truncated":"no"})", "truncated"},
        {R"({"messages":[1],"truncated":false})", "messages[0]"},
        {with(R"("raw":"x")", R"("raw":1)"), "messages[0].raw"},
        {with(R"(,"raw":"x")", ""), "messages[0].raw"},
        {with("2026-12-07T19:13:46.123456Z", "2026-12-07 19:13:46"), "messages[0].timestamp"},
        {with("2026-12-07T19:13:46.123456Z", "2026-02-30T19:13:46Z"), "messages[0].timestamp"},
        {with("2026-12-07T19:13:46.123456Z", "2026-12-07T24:13:46Z"), "messages[0].timestamp"},
        {with("2026-12-07T19:13:46.123456Z", "9999-12-07T19:13:46Z"), "messages[0].timestamp"},
        {with("2026-12-07T19:13:46.123456Z", "2026-12-07T19:13:46.Z"), "messages[0].timestamp"},
        {with("2026-12-07T19:13:46.123456Z", "2026-12-07T19:13:46.1+01:00"),
         "messages[0].timestamp"},
        {with(R"("direction":"in")", R"("direction":"IN")"), "messages[0].direction"},
        {with(R"("transport":"udp")", R"("transport":null)"), "messages[0].transport"},
        {with("127.0.0.1:5060", "127.0.0.1"), "messages[0].local_address"},
        {with("127.0.0.1:5060", "127.0.0.1:65536"), "messages[0].local_address"},
        {with("127.0.0.1:5060", "127.0.0.1:-1"), "messages[0].local_address"},
        {with("127.0.0.1:5060", "127.0.0.1:50a"), "messages[0].local_address"},
        {with("[::1]:5070", "::1:5070"), "messages[0].remote_address"},
        {with("[::1]:5070", "[::1]5070"), "messages[0].remote_address"},
        {with("[::1]:5070", "[::1]:"), "messages[0].remote_address"},
    };
    for (const auto& [json, field] : cases) {
        SCOPED_TRACE(json);
        const auto parsed = capture_from_json(json);
        ASSERT_FALSE(parsed);
        EXPECT_EQ(parsed.error().code, Errc::kInvalidJson);
        EXPECT_EQ(parsed.error().field, field);
        EXPECT_FALSE(parsed.error().message.empty());
    }
}

}  // namespace
}  // namespace tl::sip
