#include "voice/providers/language_model.hpp"

namespace tl::voice {

std::string_view to_string(Role role) {
    switch (role) {
        case Role::kSystem:
            return "system";
        case Role::kUser:
            return "user";
        case Role::kAssistant:
            return "assistant";
        case Role::kTool:
            return "tool";
    }
    return "user";
}

std::string_view to_string(FinishReason reason) {
    switch (reason) {
        case FinishReason::kStop:
            return "stop";
        case FinishReason::kToolCalls:
            return "tool_calls";
        case FinishReason::kLength:
            return "length";
        case FinishReason::kOther:
            return "other";
    }
    return "other";
}

}  // namespace tl::voice
