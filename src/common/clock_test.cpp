#include "common/clock.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(Clock, FormatsWithMillisecondsAndZ) {
    using namespace std::chrono;
    const SystemTime t = sys_days{2025y / 12 / 13} + 10h + 0min + 5s + 7ms;
    EXPECT_EQ(format_iso8601(t), "2025-12-13T10:00:05.007Z");
}

TEST(Clock, ParsesTheFormsUsersSend) {
    struct Case {
        std::string_view text;
        std::string_view normalised;  // empty = must be rejected
    };
    const Case cases[] = {
        {"2025-12-13", "2025-12-13T00:00:00.000Z"},
        {"2025-12-13T10:00:00.000Z", "2025-12-13T10:00:00.000Z"},
        {"2025-12-13T10:00:00Z", "2025-12-13T10:00:00.000Z"},
        {"2025-12-13T10:00Z", "2025-12-13T10:00:00.000Z"},
        {"2025-12-13T12:00:00+02:00", "2025-12-13T10:00:00.000Z"},
        {"2025-12-13T10:00:00.5Z", "2025-12-13T10:00:00.500Z"},
        {"2025-02-30", ""},
        {"0000-01-01T00:00+01:00", ""},  // found by fuzz_validation: overflowed nanoseconds
        {"1969-12-31", ""},
        {"2200-01-01", ""},
        {"2025-12-13T25:00:00Z", ""},
        {"yesterday", ""},
        {"2025-12-13T10:00:00Zjunk", ""},
        {"", ""},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_iso8601(c.text);
        if (c.normalised.empty()) {
            EXPECT_FALSE(parsed) << c.text;
        } else {
            ASSERT_TRUE(parsed) << c.text;
            EXPECT_EQ(format_iso8601(*parsed), c.normalised);
        }
    }
}

}  // namespace
}  // namespace tl
