#pragma once
// The words of the dialog an assistant holds when it listens with a closed-vocabulary recogniser
// (the embedded PocketSphinx): confirming a transfer or a hang-up before acting on it, telling a
// yes from a no, and the keypad menu offered after two misunderstandings (docs/listening.md
// "Understanding offline"). Pure functions: the Conversation keeps the state.

#include <optional>
#include <string>

#include "voice/providers/tool_set.hpp"

namespace tl::voice {

enum class Answer { kYes, kNo, kUnclear };

// "yes", "yes please", "that's right", "1" -> kYes; "no", "no that's wrong", "2" -> kNo; both or
// neither -> kUnclear.
Answer answer_of(const std::string& text);

// Whether acting on `call` needs the caller's yes first: a transfer or the end of the call.
bool needs_confirmation(const ToolSet& tools, const ToolCall& call);

// "Sales team, is that right?" for a transfer; "Do you want to end the call?" for end_call.
std::string confirmation_question(const ToolSet& tools, const ToolCall& call);

// The first transfer_call tool with destinations: the one the keypad menu offers; nullptr: none.
const ConfiguredTool* menu_tool(const ToolSet& tools);

// "press 1 for sales team, press 2 for technical support" in destination order (at most 9).
std::string menu_text(const ConfiguredTool& tool);

// The destination index a key selects in that menu; nullopt for any other key.
std::optional<std::size_t> menu_choice(const ConfiguredTool& tool, char digit);

}  // namespace tl::voice
