#pragma once
// The tools of an assistant (`llm_config.tools`, api-contract.md §3.7) as a language model sees
// them, and the way back from a model's tool call to what Trunkline must do:
//   - transfer_call -> one function (named "transfer_call" unless the tool has a `name`) taking
//     `{"destination": <key>}`, the keys an enum: each destination's E.164 `number` or `sip_uri`;
//     the function's description lists every key with its `description`, so the model picks a
//     destination by what the caller needs;
//   - end_call -> a function without parameters ("end_call" unless named);
//   - function tools (flat `{name, description, parameters, url|server}` or OpenAI's nested
//     `{type: "function", function: {...}}`) -> their own name, description and JSON Schema.
// Immutable once built: thread-safe.

#include <boost/json/array.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "voice/providers/language_model.hpp"

namespace tl::voice {

enum class ToolKind { kTransferCall, kEndCall, kFunction };

struct TransferDestination {
    std::string key;  // the number or SIP URI (a repeated one gets "#<n>", n its 1-based position)
    std::string description;
    std::size_t index = 0;  // its position in the tool's `destinations`
};

struct ConfiguredTool {
    ToolKind kind = ToolKind::kFunction;
    ToolDefinition definition;                      // what the model is offered
    std::size_t config_index = 0;                   // its position in llm_config.tools
    std::vector<TransferDestination> destinations;  // kTransferCall only
};

class ToolSet {
public:
    // From the stored (API-validated) `llm_config.tools`; `path` names it in errors. Errors
    // (kInvalidRequest, naming the tool by path): a tool that is not an object, an unknown
    // `type`, a function without a valid name, a transfer_call without destinations, two tools
    // offered under one name.
    static Result<ToolSet> from_config(const boost::json::array& tools,
                                       const std::string& path = "llm_config.tools");

    const std::vector<ConfiguredTool>& tools() const { return tools_; }
    std::vector<ToolDefinition> definitions() const;
    // The tool a model's call names, or nullptr (the model made a name up).
    const ConfiguredTool* find(std::string_view name) const;

    // The destination a transfer_call names: `arguments.destination` equal to a key, else equal
    // to one ignoring case, else equal to a description ignoring case. Returns its position in
    // tool.destinations. kInvalidRequest when absent or unknown (feed the message back to the
    // model as the tool's result).
    static Result<std::size_t> transfer_destination(const ConfiguredTool& tool,
                                                    const ToolCall& call);

private:
    std::vector<ConfiguredTool> tools_;
};

}  // namespace tl::voice
