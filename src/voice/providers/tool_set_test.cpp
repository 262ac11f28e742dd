// Assistant tools as the model sees them, and tool calls mapped back to destinations.

#include "voice/providers/tool_set.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tl::voice {
namespace {

namespace json = boost::json;

// As the API stores them (api/assistant_tools.cpp): normalised types, sealed passwords.
constexpr std::string_view kTools = R"([
    {"type": "transfer_call", "destinations": [
        {"type": "number", "number": "+31850000001", "description": "Sales team: new orders"},
        {"type": "sip", "sip_uri": "sip:support@pbx.example.com", "description": "Technical support",
         "password_sealed": "v1:abc"},
        {"type": "number", "number": "+31850000001", "description": "Billing questions"}
    ]},
    {"type": "end_call"},
    {"name": "lookup_order", "description": "Find an order", "url": "https://x.example/tool",
     "parameters": {"type": "object", "properties": {"order": {"type": "string"}}}},
    {"type": "function", "function": {"name": "book", "description": "Book a slot"}}
])";

ToolSet tools() {
    auto set = ToolSet::from_config(json::parse(kTools).as_array());
    EXPECT_TRUE(set) << set.error().message;
    return *set;
}

TEST(ToolSet, DefinitionsOfferedToTheModel) {
    const auto set = tools();
    const auto defs = set.definitions();
    ASSERT_EQ(defs.size(), 4u);
    EXPECT_EQ(defs[0].name, "transfer_call");
    EXPECT_EQ(defs[0].parameters,
              json::parse(R"({"type":"object","properties":{"destination":{"type":"string",
                  "enum":["+31850000001","sip:support@pbx.example.com","+31850000001#3"],
                  "description":"The destination to transfer the call to."}},
                  "required":["destination"]})"));
    EXPECT_NE(defs[0].description.find("\n- +31850000001: Sales team: new orders"),
              std::string::npos);
    EXPECT_NE(defs[0].description.find("\n- sip:support@pbx.example.com: Technical support"),
              std::string::npos);
    EXPECT_EQ(defs[0].description.find("v1:abc"), std::string::npos);  // no secrets to the model
    EXPECT_EQ(defs[1].name, "end_call");
    EXPECT_EQ(defs[1].parameters, json::parse(R"({"type":"object","properties":{}})"));
    EXPECT_EQ(defs[2].name, "lookup_order");
    EXPECT_EQ(defs[2].description, "Find an order");
    EXPECT_EQ(defs[2].parameters.at("properties").as_object().size(), 1u);
    EXPECT_EQ(defs[3].name, "book");
    EXPECT_EQ(defs[3].parameters, json::parse(R"({"type":"object","properties":{}})"));

    ASSERT_NE(set.find("lookup_order"), nullptr);
    EXPECT_EQ(set.find("lookup_order")->kind, ToolKind::kFunction);
    EXPECT_EQ(set.find("lookup_order")->config_index, 2u);
    EXPECT_EQ(set.find("end_call")->kind, ToolKind::kEndCall);
    EXPECT_EQ(set.find("made_up"), nullptr);
}

TEST(ToolSet, TransferCallResolvesItsDestination) {
    const auto set = tools();
    const auto& transfer = *set.find("transfer_call");
    auto call = [](std::string dest) {
        return ToolCall{"c", "transfer_call", json::object{{"destination", dest}}};
    };
    EXPECT_EQ(ToolSet::transfer_destination(transfer, call("+31850000001")).value(), 0u);
    EXPECT_EQ(ToolSet::transfer_destination(transfer, call("SIP:support@pbx.example.com")).value(),
              1u);
    EXPECT_EQ(ToolSet::transfer_destination(transfer, call("+31850000001#3")).value(), 2u);
    EXPECT_EQ(ToolSet::transfer_destination(transfer, call("technical support")).value(), 1u);
    auto unknown = ToolSet::transfer_destination(transfer, call("marketing"));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, Errc::kInvalidRequest);
    EXPECT_NE(unknown.error().message.find("unknown destination 'marketing'; use one of: "
                                           "+31850000001, sip:support@pbx.example.com"),
              std::string::npos);
    auto missing = ToolSet::transfer_destination(transfer, ToolCall{"c", "transfer_call", {}});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("'destination' (a string) is required"),
              std::string::npos);
}

TEST(ToolSet, CustomNamesAndDescriptions) {
    auto set = ToolSet::from_config(json::parse(R"([
        {"type": "transferCall", "name": "to_human", "description": "Hand over to a person.",
         "destinations": [{"type": "number", "number": "+31850000009", "description": "Desk"}]},
        {"type": "endCall", "name": "hang_up", "description": "Hang up."}])")
                                        .as_array());
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->tools()[0].kind, ToolKind::kTransferCall);
    EXPECT_EQ(set->tools()[0].definition.name, "to_human");
    EXPECT_EQ(set->tools()[0].definition.description,
              "Hand over to a person.\nDestinations:\n- +31850000009: Desk");
    EXPECT_EQ(set->tools()[1].definition.name, "hang_up");
    EXPECT_EQ(set->tools()[1].definition.description, "Hang up.");
}

TEST(ToolSet, Errors) {
    struct Case {
        std::string_view tools;
        std::string message;
    };
    for (const auto& c : std::initializer_list<Case>{
             {R"([5])", "llm_config.tools[0] must be an object"},
             {R"([{"type":"mcp"}])", "llm_config.tools[0].type must be one of"},
             {R"([{"type":"transfer_call","destinations":[]}])",
              "llm_config.tools[0].destinations must be a non-empty array"},
             {R"([{"type":"transfer_call","destinations":[{"type":"number"}]}])",
              "llm_config.tools[0].destinations[0] has neither number nor sip_uri"},
             {R"([{"name":"1bad","description":"x"}])", "llm_config.tools[0].name must start"},
             {R"([{"type":"function","function":{"description":"x"}}])",
              "llm_config.tools[0].function.name must start"},
             {R"([{"type":"end_call"},{"name":"end_call","description":"mine"}])",
              "llm_config.tools[1] is offered to the model under the name 'end_call'"},
         }) {
        auto set = ToolSet::from_config(json::parse(c.tools).as_array());
        ASSERT_FALSE(set) << c.tools;
        EXPECT_EQ(set.error().code, Errc::kInvalidRequest);
        EXPECT_NE(set.error().message.find(c.message), std::string::npos) << set.error().message;
    }
}

}  // namespace
}  // namespace tl::voice
