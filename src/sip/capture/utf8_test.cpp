#include "sip/capture/utf8.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tl::sip::detail {
namespace {

TEST(Utf8, KeepsValidTextAndReplacesTheRest) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"plain ascii\r\n", "plain ascii\r\n"},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9e", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9e"},
        {"J\xfcrgen", "J\xef\xbf\xbdrgen"},                                        // Latin-1
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                                  // overlong '/'
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                  // a surrogate
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // > U+10FFFF
        {"ab\xe2\x82", "ab\xef\xbf\xbd\xef\xbf\xbd"},                              // cut short
        {std::string_view("\0", 1), std::string_view("\0", 1)},
    };
    for (const auto& [in, out] : cases) {
        EXPECT_EQ(to_valid_utf8(in), out);
    }
}

}  // namespace
}  // namespace tl::sip::detail
