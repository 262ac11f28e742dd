#include "common/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>

namespace tl::log {
namespace {

TEST(LogClip, CutsLongValuesAndEscapesBytesThatCouldForgeLines) {
    EXPECT_EQ(clip("abc"), "abc");
    EXPECT_EQ(clip("a\r\nb\x01"), "a\\x0d\\x0ab\\x01");
    EXPECT_EQ(clip("caf\xc3\xa9"), "caf\\xc3\\xa9");
    EXPECT_EQ(clip("back\\slash"), "back\\x5cslash");
    const std::string huge(65000, 'x');
    const auto cut = clip(huge);
    EXPECT_EQ(cut, std::string(kMaxValueBytes, 'x') + "...(65000 bytes)");
    EXPECT_EQ(clip(huge, 4), "xxxx...(65000 bytes)");
}

// Captures what the default logger writes, with the formatter init() installed.
class LogCapture : public ::testing::Test {
protected:
    void use(Format format) {
        ASSERT_TRUE(init(format, "info"));
        sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
        auto logger = spdlog::default_logger();
        saved_sinks_ = logger->sinks();
        logger->sinks() = {sink_};
        // init() set the formatter on the old sinks; give ours the same pattern.
        ASSERT_TRUE(init(format, "info"));
    }
    void TearDown() override { spdlog::default_logger()->sinks() = saved_sinks_; }
    std::ostringstream out_;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
    std::vector<spdlog::sink_ptr> saved_sinks_;
};

TEST_F(LogCapture, JsonLinesEscapeEverythingAndStayUnder8KiB) {
    use(Format::kJson);
    spdlog::warn("quote \" backslash \\ newline \n bell \x07 latin1 \xe9 utf8 caf\xc3\xa9");
    spdlog::info("{}", std::string(20000, 'y'));
    std::istringstream lines(out_.str());
    std::string line;
    std::getline(lines, line);
    EXPECT_NE(line.find(R"("level":"warn")"), std::string::npos) << line;
    EXPECT_NE(line.find(R"(quote \" backslash \\ newline \n bell \u0007 latin1 \u00e9 utf8 caf)"
                        "\xc3\xa9"),
              std::string::npos)
        << line;
    std::getline(lines, line);
    EXPECT_LE(line.size(), kMaxLineBytes);
    EXPECT_NE(line.find("...(cut)\"}"), std::string::npos);
}

TEST_F(LogCapture, RepeatedLinesAreRateLimited) {
    use(Format::kText);
    // The key counts, not the text: a flood varies its addresses.
    for (int i = 0; i < 100; ++i) {
        rate_limited("accept", spdlog::level::warn, "accept failed: EMFILE from port {}", i);
    }
    std::istringstream lines(out_.str());
    int count = 0;
    for (std::string line; std::getline(lines, line);) ++count;
    EXPECT_EQ(count, 10);
    EXPECT_NE(out_.str().find(" warn accept failed: EMFILE from port 9"), std::string::npos);
    EXPECT_EQ(out_.str().find("port 10"), std::string::npos);
}

TEST_F(LogCapture, CallFieldsAreJsonMembers) {
    use(Format::kJson);
    Fields fields;
    fields.call_id = "c-1";
    fields.org_id = "o-1";
    fields.trunk_id = "t-\"1";  // escaped like any value
    fields.reason = "auth_rejected";
    with_fields(fields, spdlog::level::warn, "transfer failed: {}", "403");
    spdlog::info("no fields after");
    std::istringstream lines(out_.str());
    std::string line;
    std::getline(lines, line);
    EXPECT_NE(line.find(R"("level":"warn","call_id":"c-1","org_id":"o-1","trunk_id":"t-\"1",)"
                        R"("reason":"auth_rejected","msg":"transfer failed: 403"})"),
              std::string::npos)
        << line;
    std::getline(lines, line);
    EXPECT_EQ(line.find("call_id"), std::string::npos) << line;
}

TEST_F(LogCapture, CallFieldsAreATextPrefix) {
    use(Format::kText);
    Fields fields;
    fields.call_id = "c-1";
    fields.sip_call_id = "abc\r\nforged";  // from the network: escaped
    rate_limited("refused", fields, spdlog::level::warn, "refused {}", 403);
    EXPECT_NE(out_.str().find(" warn [call=c-1][sip=abc\\x0d\\x0aforged] refused 403"),
              std::string::npos)
        << out_.str();
}

}  // namespace
}  // namespace tl::log
