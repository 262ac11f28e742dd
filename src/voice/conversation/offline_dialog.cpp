#include "voice/conversation/offline_dialog.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "voice/providers/destination_keywords.hpp"
#include "voice/providers/scripted_llm.hpp"

namespace tl::voice {
namespace {

constexpr std::size_t kMaxMenuEntries = 9;  // one key each

constexpr std::array<std::string_view, 9> kYes = {"yes",   "yeah", "yep",  "correct", "right",
                                                  "sure",  "okay", "ok",   "1"};
constexpr std::array<std::string_view, 5> kNo = {"no", "nope", "wrong", "not", "2"};

template <std::size_t N>
bool any_in(const std::vector<std::string>& words, const std::array<std::string_view, N>& set) {
    return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
        return std::find(set.begin(), set.end(), w) != set.end();
    });
}

std::string capitalised(std::string text) {
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
    return text;
}

}  // namespace

Answer answer_of(const std::string& text) {
    const auto words = scripted_words(text);
    const bool yes = any_in(words, kYes);
    const bool no = any_in(words, kNo);
    if (yes == no) return Answer::kUnclear;
    return yes ? Answer::kYes : Answer::kNo;
}

bool needs_confirmation(const ToolSet& tools, const ToolCall& call) {
    const ConfiguredTool* tool = tools.find(call.name);
    return tool != nullptr &&
           (tool->kind == ToolKind::kTransferCall || tool->kind == ToolKind::kEndCall);
}

std::string confirmation_question(const ToolSet& tools, const ToolCall& call) {
    const ConfiguredTool* tool = tools.find(call.name);
    if (tool != nullptr && tool->kind == ToolKind::kTransferCall) {
        if (auto index = ToolSet::transfer_destination(*tool, call); index) {
            return capitalised(destination_label(tool->destinations[*index])) +
                   ", is that right?";
        }
    }
    return "Do you want to end the call?";
}

const ConfiguredTool* menu_tool(const ToolSet& tools) {
    for (const auto& tool : tools.tools()) {
        if (tool.kind == ToolKind::kTransferCall && !tool.destinations.empty()) return &tool;
    }
    return nullptr;
}

std::string menu_text(const ConfiguredTool& tool) {
    std::string text;
    const std::size_t n = std::min(tool.destinations.size(), kMaxMenuEntries);
    for (std::size_t i = 0; i < n; ++i) {
        text += (text.empty() ? "" : ", ") + std::string("press ") + std::to_string(i + 1) +
                " for " + destination_label(tool.destinations[i]);
    }
    return text;
}

std::optional<std::size_t> menu_choice(const ConfiguredTool& tool, char digit) {
    if (digit < '1' || digit > '9') return std::nullopt;
    const auto index = static_cast<std::size_t>(digit - '1');
    if (index >= std::min(tool.destinations.size(), kMaxMenuEntries)) return std::nullopt;
    return index;
}

}  // namespace tl::voice
