#include "api/json_reader.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace tl::api {
namespace {

namespace json = boost::json;

TEST(JsonReader, ParseRejectsNonObjects) {
    for (auto bad : {"", "[]", "42", "{", "{\"a\":}", "null"}) {
        auto r = parse_json_object(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::kInvalidJson);
    }
    EXPECT_TRUE(parse_json_object("{}"));
}

TEST(JsonReader, UnknownFieldsAreNamedWithTheirPath) {
    const auto obj = json::parse(R"({"a":1,"zz":2})").as_object();
    ObjectReader r(obj, "llm_config.tools[0]");
    auto st = r.only({"a"});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::kUnknownField);
    EXPECT_EQ(st.error().field, "llm_config.tools[0].zz");
}

TEST(JsonReader, TypedFieldsTellAbsentNullAndValue) {
    const auto obj =
        json::parse(R"({"s":"abc","n":null,"i":7,"big":99999999999,"b":true,"d":0.5})").as_object();
    ObjectReader r(obj, "");
    EXPECT_FALSE(r.string("missing")->present);
    EXPECT_TRUE(r.string("n")->null);
    EXPECT_EQ(r.string("s")->value, "abc");
    EXPECT_FALSE(r.string("s", {.min = 4, .max = 10}));
    EXPECT_FALSE(r.string("n", {.min = 0, .max = 10, .nullable = false}));
    EXPECT_EQ(r.integer("i", 1, 10)->value, 7);
    EXPECT_FALSE(r.integer("i", 8, 10));
    EXPECT_FALSE(r.integer("big", 1, 65535));
    EXPECT_FALSE(r.integer("d", 0, 1));
    EXPECT_FALSE(r.integer("s", 0, 1));
    EXPECT_TRUE(r.boolean("b")->value);
    EXPECT_FALSE(r.boolean("i"));
    EXPECT_DOUBLE_EQ(r.number("d", 0, 1)->value, 0.5);
    EXPECT_DOUBLE_EQ(r.number("i", 0, 10)->value, 7);
    auto missing = r.require("missing");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::kMissingField);
    EXPECT_EQ(missing.error().field, "missing");
}

}  // namespace
}  // namespace tl::api
