// The closed-vocabulary dialog of a Conversation (docs/listening.md "Understanding offline"):
// with the embedded recogniser, a transfer or a hang-up is never taken on what the grammar
// guessed. The caller confirms it ("Sales team, is that right?"); after two misunderstandings
// the assistant offers its destinations on the keypad and acts on the key.

#include <boost/json.hpp>

#include "voice/conversation/conversation.hpp"
#include "voice/conversation/offline_dialog.hpp"
#include "voice/providers/scripted_llm.hpp"

namespace tl::voice {

namespace json = boost::json;

namespace {

constexpr int kMisunderstandingsBeforeMenu = 2;

bool blank(const std::string& text) {
    return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

void Conversation::on_heard(std::uint64_t turn, Heard heard, SteadyTime started) {
    if (confirmation_) return on_answer(turn, heard.understood ? heard.text : "", started);
    // Only a closed-vocabulary recogniser reports a confidence; what it hears is a guess until
    // the caller confirms it.
    const bool closed = heard.confidence.has_value();
    if (closed && !heard.understood && !blank(heard.text)) {
        ++misunderstandings_;
        actions_.record_event("conversation.not_understood",
                              json::serialize(json::object{{"text", heard.text},
                                                           {"count", misunderstandings_}}));
        if (misunderstandings_ >= kMisunderstandingsBeforeMenu && menu_tool(settings_.tools)) {
            actions_.report_words(turn, scripted_words(heard.text).size());
            history_.push_back({Role::kUser, heard.text, {}, {}});
            actions_.transcript_entry(Role::kUser, heard.text, started);
            return offer_menu();
        }
    }
    next_reply_guarded_ = closed && !blank(heard.text);
    on_user_text(turn, std::move(heard.text), started);
}

void Conversation::ask_confirmation(std::string held_text, std::vector<ToolCall> calls) {
    const ToolCall* acted = nullptr;
    for (const auto& c : calls) {
        if (needs_confirmation(settings_.tools, c)) {
            acted = &c;
            break;
        }
    }
    std::string question = confirmation_question(settings_.tools, *acted);
    actions_.record_event("conversation.confirmation_asked",
                          json::serialize(json::object{{"tool", acted->name},
                                                       {"arguments", acted->arguments},
                                                       {"question", question}}));
    confirmation_ = PendingConfirmation{std::move(calls), std::move(held_text), question};
    say(question);
}

void Conversation::on_answer(std::uint64_t turn, const std::string& text, SteadyTime started) {
    actions_.report_words(turn, scripted_words(text).size());
    if (!blank(text)) {
        history_.push_back({Role::kUser, text, {}, {}});
        actions_.transcript_entry(Role::kUser, text, started);
    }
    switch (answer_of(text)) {
        case Answer::kYes: {
            actions_.record_event("conversation.confirmed", "{}");
            auto confirmed = std::move(*confirmation_);
            confirmation_.reset();
            misunderstandings_ = 0;
            if (!confirmed.held_text.empty()) say(confirmed.held_text);
            history_.push_back({Role::kAssistant, "", confirmed.calls, {}});
            return run_tool_calls(std::move(confirmed.calls));
        }
        case Answer::kNo:
            actions_.record_event("conversation.not_confirmed", "{}");
            confirmation_.reset();
            ++misunderstandings_;
            return not_understood("Sorry about that. What can I do for you?");
        case Answer::kUnclear:
            break;
    }
    ++misunderstandings_;
    actions_.record_event("conversation.not_understood",
                          json::serialize(json::object{{"text", text},
                                                       {"count", misunderstandings_}}));
    if (misunderstandings_ >= kMisunderstandingsBeforeMenu + 1) {
        // The answer itself is not getting through: stop asking it.
        confirmation_.reset();
        return not_understood("Sorry, I did not understand.");
    }
    say("Sorry, I did not catch that. " + confirmation_->question +
        " Please say yes or no, or press 1 for yes and 2 for no.");
}

void Conversation::not_understood(const std::string& reprompt) {
    if (misunderstandings_ >= kMisunderstandingsBeforeMenu && menu_tool(settings_.tools)) {
        return offer_menu();
    }
    say(reprompt);
}

void Conversation::offer_menu() {
    const ConfiguredTool* tool = menu_tool(settings_.tools);
    if (tool == nullptr) return say("Sorry, I did not understand.");
    menu_offered_ = true;
    misunderstandings_ = 0;
    actions_.record_event("conversation.menu_offered",
                          json::serialize(json::object{{"tool", tool->definition.name}}));
    say("Sorry, I am having trouble understanding. Please use your keypad: " + menu_text(*tool) +
        ".");
}

bool Conversation::on_menu_key(char digit) {
    if (!menu_offered_) return false;
    const ConfiguredTool* tool = menu_tool(settings_.tools);
    if (tool == nullptr) return false;
    const std::string key(1, digit);
    history_.push_back({Role::kUser, key, {}, {}});
    actions_.transcript_entry(Role::kUser, key, std::chrono::steady_clock::now());
    const auto choice = menu_choice(*tool, digit);
    if (!choice) {
        say("Sorry, that key is not on the menu. " + menu_text(*tool) + ".");
        return true;
    }
    actions_.record_event("conversation.menu_choice",
                          json::serialize(json::object{{"digit", key}, {"destination", *choice}}));
    // A key press is not a guess: no confirmation.
    ToolCall call;
    call.id = "menu_" + key;
    call.name = tool->definition.name;
    call.arguments["destination"] = tool->destinations[*choice].key;
    if (reply_) {
        reply_->cancel();
        reply_.reset();
    }
    history_.push_back({Role::kAssistant, "", {call}, {}});
    run_tool_calls({std::move(call)});
    return true;
}

}  // namespace tl::voice
