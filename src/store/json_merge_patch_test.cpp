// JSON Merge Patch: the test cases of RFC 7396 Appendix A, verbatim.

#include "store/json_merge_patch.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string_view>

namespace tl::store {
namespace {

struct Case {
    std::string_view target;
    std::string_view patch;
    std::string_view result;
};

constexpr Case kRfc7396AppendixA[] = {
    {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
    {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
    {R"({"a":"b"})", R"({"a":null})", R"({})"},
    {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
    {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
    {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
    {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
    {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
    {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
    {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
    {R"({"a":"foo"})", R"(null)", R"(null)"},
    {R"({"a":"foo"})", R"("bar")", R"("bar")"},
    {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
    {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
    {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
};

TEST(JsonMergePatch, Rfc7396AppendixA) {
    for (const auto& c : kRfc7396AppendixA) {
        const auto merged =
            json_merge_patch(boost::json::parse(c.target), boost::json::parse(c.patch));
        EXPECT_EQ(merged, boost::json::parse(c.result))
            << "target " << c.target << " patch " << c.patch << " gave "
            << boost::json::serialize(merged);
    }
}

}  // namespace
}  // namespace tl::store
