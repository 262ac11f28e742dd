#include "sip/dialled_number.hpp"

#include <gtest/gtest.h>

namespace tl::sip {
namespace {

TEST(DialledNumber, NormalisesWhatCarriersSend) {
    struct Case {
        const char* in;
        const char* out;  // nullptr = not a number we can route
    };
    const Case cases[] = {
        {"+31850835037", "+31850835037"},
        {"0031850835037", "+31850835037"},
        {"31850835037", "+31850835037"},
        {"tel:+31-85-083-5037", "+31850835037"},
        {"+31850835037;npdi", "+31850835037"},
        {"+1 (212) 555-0100", "+12125550100"},
        {"0850835037", nullptr},  // national: needs a trunk rule
        {"100", nullptr},         // extension
        {"sales", nullptr},
        {"+0123", nullptr},
        {"", nullptr},
        {"+1234567890123456789", nullptr},
    };
    for (const auto& c : cases) {
        const auto got = normalise_dialled_number(c.in);
        if (c.out == nullptr) {
            EXPECT_FALSE(got) << c.in;
        } else {
            ASSERT_TRUE(got) << c.in;
            EXPECT_EQ(*got, c.out) << c.in;
        }
    }
}

TEST(DialledNumber, NationalNumbersUseTheTrunksCountryCode) {
    EXPECT_EQ(normalise_dialled_number("0850835037", "31"), "+31850835037");
    EXPECT_EQ(normalise_dialled_number("020-1234567", "31"), "+31201234567");
    EXPECT_EQ(normalise_dialled_number("0031850835037", "31"), "+31850835037");  // international
    EXPECT_EQ(normalise_dialled_number("+44207123456", "31"), "+44207123456");
    EXPECT_FALSE(normalise_dialled_number("0850835037"));  // no rule: not routable
    EXPECT_FALSE(normalise_dialled_number("100", "31"));   // extension
}

}  // namespace
}  // namespace tl::sip
