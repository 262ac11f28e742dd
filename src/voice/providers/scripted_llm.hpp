#pragma once
// The embedded `scripted` language model: deterministic replies declared in the assistant's
// config, so the whole product works (and is tested) with no network and no model.
//
// Schema (`llm_config` of an assistant, beside the usual `messages` and `tools`):
//
//   {
//     "provider": "scripted",
//     "rules": [                                  // required, 1-100 rules, tried in order
//       {
//         "when": ["sales", "buy something"],     // required, 1-50 words or phrases, 1-100 bytes
//         "reply": "Let me put you through.",     // optional, 1-4096 bytes: spoken
//         "tool": {                               // optional: called after the reply
//           "name": "transfer_call",              // a tool of llm_config.tools, by the name the
//                                                 // model would use (transfer_call, end_call or
//                                                 // a function tool's name)
//           "destination": "sales",               // transfer_call only, required: a destination
//                                                 // of that tool by its 0-based index, by its
//                                                 // number or sip_uri, or by a word or phrase
//                                                 // found in its description and in no other's
//           "arguments": {}                       // function tools only, optional: the arguments
//         }
//       },                                        // each rule needs a reply, a tool or both
//       {"when": ["goodbye", "bye"], "tool": {"name": "end_call"}}
//     ],
//     "default_reply": "Sorry, I did not catch that."   // optional, 1-4096 bytes
//   }
//
// Matching: the user's words and each phrase are split into words (runs of letters, digits,
// apostrophes and non-ASCII characters), compared case-insensitively (ASCII and Latin-1 letters);
// a phrase matches when its words appear consecutively. "sell" matches "I want to sell" but not
// "seller"; "talk to sales" matches "I'd like to TALK to sales please".
//
// A reply answers the conversation's last message that is not a system message:
//   - a user message: the first rule with a matching phrase gives its reply and/or tool call (a
//     transfer_call gets `{"destination": <the destination's key>}`, as a model would send);
//     no rule matches: when the words name exactly one transfer destination (its keywords,
//     derived from its description: destination_keywords.hpp), a transfer_call to it; else the
//     default reply, or nothing when there is none;
//   - anything else (a tool result, an assistant turn, no message at all): nothing (done, kStop).
// The system prompt is ignored.

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "voice/providers/language_model.hpp"
#include "voice/providers/tool_set.hpp"

namespace tl::voice {

struct ScriptedRule {
    std::vector<std::vector<std::string>> phrases;  // each phrase as its normalised words
    std::string reply;
    std::optional<ToolCall> tool;  // complete but for its id (given per reply)
};

// A transfer destination the caller can name without a rule (destination_keywords.hpp).
struct ScriptedRoute {
    std::vector<std::vector<std::string>> phrases;
    ToolCall tool;  // transfer_call with {"destination": key}
};

struct ScriptedConfig {
    std::vector<ScriptedRule> rules;
    std::vector<ScriptedRoute> routes;  // tried when no rule matches
    std::string default_reply;
    ToolSet tools;

    // Every `when` phrase, normalised (lower case, words joined by one space), in rule order
    // without repeats: the embedded recogniser builds its grammar from them.
    std::vector<std::string> vocabulary() const;
};

// Validates and parses an `llm_config` whose provider is "scripted". Errors name the field by
// its path under `path` ("llm_config.rules[2].tool.destination"): kMissingField,
// kUnknownField (a key the schema above does not have, in the rules or their tool) or
// kInvalidRequest. Fields other than rules and default_reply are left to the caller.
Result<ScriptedConfig> parse_scripted_config(const boost::json::object& llm_config,
                                             const std::string& path = "llm_config");

// The words of `text` as the matcher sees them (exposed for tests and for the recogniser).
std::vector<std::string> scripted_words(std::string_view text);

// The reply the config gives to `messages` (see above); pure.
struct ScriptedReply {
    std::string text;
    std::optional<ToolCall> tool;
    const ScriptedRule* rule = nullptr;  // the rule that matched, or nullptr
};
ScriptedReply scripted_reply(const ScriptedConfig& config,
                             const std::vector<ChatMessage>& messages);

// A LanguageModel over a ScriptedConfig. The reply is computed at once and delivered through
// `executor` (never inside reply()): on_text (when there is text), on_tool_call (when a tool),
// on_done(kStop or kToolCalls). Tool call ids are "scripted_<n>", unique per provider.
std::shared_ptr<LanguageModel> make_scripted_language_model(boost::asio::any_io_executor executor,
                                                            ScriptedConfig config);

}  // namespace tl::voice
