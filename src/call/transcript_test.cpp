// The call's transcript: entries in the order they began, with times that never go backwards.

#include "call/transcript.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace tl::call {
namespace {

using std::chrono::milliseconds;

class TranscriptTest : public ::testing::Test {
protected:
    const Transcript::SteadyTime start_ = Transcript::SteadyTime(std::chrono::hours(5));
    const SystemTime wall_ = *parse_iso8601("2025-12-13T10:00:00.000Z");
    Transcript transcript_{start_, wall_};

    std::vector<std::string> contents() const {
        std::vector<std::string> out;
        for (const auto& m : transcript_.messages()) {
            out.emplace_back(m.as_object().at("content").as_string());
        }
        return out;
    }
};

TEST_F(TranscriptTest, EntryHasRoleContentWallTimeAndSecondsFromStart) {
    transcript_.add("assistant", "Hello.", start_ + milliseconds(1250));
    ASSERT_EQ(transcript_.messages().size(), 1u);
    const auto& m = transcript_.messages()[0].as_object();
    EXPECT_EQ(m.size(), 4u);
    EXPECT_EQ(m.at("role").as_string(), "assistant");
    EXPECT_EQ(m.at("content").as_string(), "Hello.");
    EXPECT_EQ(m.at("time").as_string(), "2025-12-13T10:00:01.250Z");
    EXPECT_DOUBLE_EQ(m.at("seconds_from_start").to_number<double>(), 1.25);
}

TEST_F(TranscriptTest, ACallersTurnReportedLateGoesWhereItBegan) {
    transcript_.add("assistant", "Hello.", start_ + milliseconds(100));
    transcript_.add("assistant", "Are you there?", start_ + milliseconds(9000));
    // The caller began at 5 s; the words were known only after the prompt had started.
    transcript_.add("user", "yes", start_ + milliseconds(5000));
    EXPECT_EQ(contents(), (std::vector<std::string>{"Hello.", "yes", "Are you there?"}));
}

TEST_F(TranscriptTest, SameStartKeepsReportOrderAndTimesNeverDecrease) {
    transcript_.add("assistant", "a", start_ + milliseconds(2000));
    transcript_.add("assistant", "b", start_ + milliseconds(2000));
    transcript_.add("user", "c", start_ - milliseconds(300));  // before the answer: clamped to 0
    EXPECT_EQ(contents(), (std::vector<std::string>{"c", "a", "b"}));
    double last = -1;
    for (const auto& m : transcript_.messages()) {
        const double t = m.as_object().at("seconds_from_start").to_number<double>();
        EXPECT_GE(t, last);
        last = t;
    }
    EXPECT_EQ(transcript_.messages()[0].as_object().at("time").as_string(),
              "2025-12-13T10:00:00.000Z");
}

}  // namespace
}  // namespace tl::call
