// The closed-vocabulary dialog: confirmations before transfers and hang-ups, the keypad menu
// after two misunderstandings, and the words it is built from.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "voice/conversation/conversation.hpp"
#include "voice/conversation/conversation_test_support.hpp"
#include "voice/conversation/offline_dialog.hpp"
#include "voice/providers/destination_keywords.hpp"
#include "voice/providers/scripted_llm.hpp"

namespace tl::voice {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using test::RecordingActions;
using test::ScriptedEars;

constexpr const char* kAssistant = R"({
  "provider": "scripted",
  "tools": [{"type": "transfer_call", "destinations": [
      {"type": "number", "number": "+31201111111", "description": "Sales team - for pricing and quotes"},
      {"type": "number", "number": "+31202222222", "description": "Technical support: problems with your internet or equipment"},
      {"type": "number", "number": "+31203333333", "description": "Billing - invoices and payments"}]},
    {"type": "end_call"}],
  "rules": [
    {"when": ["goodbye"], "tool": {"name": "end_call"}},
    {"when": ["opening hours"], "reply": "We are open from nine to five."}],
  "default_reply": "Sorry, I did not catch that. Who would you like to talk to?"})";

ToolSet tools_of(const json::object& llm) {
    auto tools = ToolSet::from_config(llm.at("tools").as_array());
    EXPECT_TRUE(tools);
    return std::move(*tools);
}

class ClosedVocabularyDialog : public test::ConversationHarness {
protected:
    void SetUp() override {
        ConversationSettings settings;
        settings.end_call_message = "Bye now.";
        start(json::parse(kAssistant).as_object(), std::move(settings));
    }

    // What the embedded recogniser reports: `confidence` set (a closed vocabulary).
    void caller_says(std::string text, bool understood = true) {
        ears_->next_heard = Heard{std::move(text), understood ? 0.8 : 0.0, understood};
        end_turn();
        settle();
    }
    void caller_presses(char digit) {
        conversation_->on_dtmf(digit);
        settle();
    }
    void settle() {
        conversation_->on_playout_done();  // whatever was said has been heard
        run();
    }
    // The last thing said to the caller, whole (spoken sentence by sentence).
    std::string last_said() const {
        for (auto it = actions_.transcript.rbegin(); it != actions_.transcript.rend(); ++it) {
            if (it->first == Role::kAssistant) return it->second;
        }
        return "";
    }
    bool happened(const std::string& event) const {
        return std::find(actions_.events.begin(), actions_.events.end(), event) !=
               actions_.events.end();
    }

};

TEST_F(ClosedVocabularyDialog, ATransferIsConfirmedBeforeItHappens) {
    caller_says("i want to talk to sales");
    EXPECT_FALSE(actions_.transferred_to) << "never on a guess";
    EXPECT_EQ(actions_.spoken, (std::vector<std::string>{"Sales team, is that right?"}));
    caller_says("yes please");
    EXPECT_EQ(ears_->expected.back(), Expecting::kYesOrNo) << "the answer grammar was asked for";
    ASSERT_TRUE(actions_.transferred_to);
    EXPECT_EQ(*actions_.transferred_to, 0u);
    EXPECT_TRUE(happened("conversation.confirmation_asked"));
    EXPECT_TRUE(happened("conversation.confirmed"));
    EXPECT_EQ(actions_.transcript,
              (std::vector<std::pair<Role, std::string>>{
                  {Role::kUser, "i want to talk to sales"},
                  {Role::kAssistant, "Sales team, is that right?"},
                  {Role::kUser, "yes please"}}));
}

TEST_F(ClosedVocabularyDialog, AWordOfADescriptionReachesItsDestinationWithoutARule) {
    caller_says("my internet is broken");
    EXPECT_EQ(last_said(), "Technical support, is that right?");
    caller_presses('1');  // yes, on the keypad
    ASSERT_TRUE(actions_.transferred_to);
    EXPECT_EQ(*actions_.transferred_to, 1u);
}

TEST_F(ClosedVocabularyDialog, NoIsNeverATransferAndTwoMissesBringTheKeypadMenu) {
    caller_says("i have a question about payments");
    EXPECT_EQ(last_said(), "Billing, is that right?");
    caller_says("no");
    EXPECT_FALSE(actions_.transferred_to);
    EXPECT_TRUE(happened("conversation.not_confirmed"));
    EXPECT_EQ(last_said(), "Sorry about that. What can I do for you?");
    caller_says("i want to talk to to", false);  // nothing the assistant listens for
    EXPECT_TRUE(happened("conversation.menu_offered"));
    EXPECT_EQ(last_said(),
              "Sorry, I am having trouble understanding. Please use your keypad: press 1 for "
              "sales team, press 2 for technical support, press 3 for billing.");
    caller_presses('7');
    EXPECT_EQ(last_said(),
              "Sorry, that key is not on the menu. press 1 for sales team, press 2 for "
              "technical support, press 3 for billing.");
    caller_presses('3');
    ASSERT_TRUE(actions_.transferred_to) << "a key press is not a guess: no confirmation";
    EXPECT_EQ(*actions_.transferred_to, 2u);
    EXPECT_TRUE(happened("conversation.menu_choice"));
}

TEST_F(ClosedVocabularyDialog, NothingUnderstoodTwiceOffersTheMenu) {
    caller_says("hello hello", false);
    EXPECT_EQ(last_said(),
              "Sorry, I did not catch that. Who would you like to talk to?");
    caller_says("what", false);
    EXPECT_TRUE(happened("conversation.menu_offered"));
    caller_presses('1');
    ASSERT_TRUE(actions_.transferred_to);
    EXPECT_EQ(*actions_.transferred_to, 0u);
}

TEST_F(ClosedVocabularyDialog, AHangUpOnOneWordIsConfirmed) {
    caller_says("goodbye");
    EXPECT_FALSE(actions_.ended_with);
    EXPECT_EQ(last_said(), "Do you want to end the call?");
    caller_says("yes");
    EXPECT_EQ(actions_.ended_with, "assistant_ended:Bye now.");
}

TEST_F(ClosedVocabularyDialog, AnUnclearAnswerIsAskedAgainWithTheKeypadOffered) {
    caller_says("sales please");
    caller_says("", false);  // noise: nothing
    caller_says("thank you", false);
    EXPECT_EQ(last_said(),
              "Sorry, I did not catch that. Sales team, is that right? Please say yes or no, or "
              "press 1 for yes and 2 for no.");
    EXPECT_FALSE(actions_.transferred_to);
    caller_says("yes");
    ASSERT_TRUE(actions_.transferred_to);
}

TEST_F(ClosedVocabularyDialog, RepliesWithoutAnActionAreSpokenAtOnce) {
    caller_says("what are your opening hours");
    EXPECT_EQ(actions_.spoken, (std::vector<std::string>{"We are open from nine to five."}));
    EXPECT_FALSE(happened("conversation.confirmation_asked"));
}

TEST(OpenVocabularyDialog, AnOpenRecogniserIsTakenAtItsWord) {
    // No confidence (a Whisper-class STT): what it heard is acted on, as before.
    asio::io_context io;
    auto strand = asio::make_strand(io);
    const auto llm = json::parse(kAssistant).as_object();
    auto scripted = parse_scripted_config(llm);
    ASSERT_TRUE(scripted);
    ConversationSettings settings;
    settings.tools = tools_of(llm);
    auto ears = std::make_shared<ScriptedEars>(strand);
    RecordingActions actions;
    auto conversation = std::make_shared<Conversation>(
        strand, std::move(settings),
        ConversationProviders{ears, make_scripted_language_model(strand, std::move(*scripted))},
        actions);
    conversation->start();
    ears->next = "sales please";
    TurnEvent end;
    end.kind = TurnEventKind::kEndOfTurn;
    end.turn = 1;
    end.utterance.audio = std::make_shared<const media::Pcm>(1600, 0);
    conversation->on_turn(end);
    io.run();
    ASSERT_TRUE(actions.transferred_to);
    EXPECT_EQ(*actions.transferred_to, 0u);
}

TEST(OfflineDialog, AnswersAreYesNoOrUnclear) {
    EXPECT_EQ(answer_of("yes please"), Answer::kYes);
    EXPECT_EQ(answer_of("that's right"), Answer::kYes);
    EXPECT_EQ(answer_of("1"), Answer::kYes);
    EXPECT_EQ(answer_of("no that's wrong"), Answer::kNo);
    EXPECT_EQ(answer_of("2"), Answer::kNo);
    EXPECT_EQ(answer_of("yes no"), Answer::kUnclear);
    EXPECT_EQ(answer_of("thank you"), Answer::kUnclear);
    EXPECT_EQ(answer_of(""), Answer::kUnclear);
}

TEST(DestinationKeywords, ComeFromTheDescriptionNotAsOnePhrase) {
    const auto tools = tools_of(json::parse(kAssistant).as_object());
    const auto entries = destination_keywords(tools.tools().front());
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].label, "sales team");
    EXPECT_EQ(entries[0].keywords,
              (std::vector<std::string>{"sales", "pricing", "quotes", "quote"}));
    EXPECT_EQ(entries[1].label, "technical support");
    EXPECT_EQ(entries[1].keywords,
              (std::vector<std::string>{"technical support", "technical", "support", "problems",
                                        "problem", "internet", "equipment"}));
    EXPECT_EQ(entries[2].keywords, (std::vector<std::string>{"billing", "invoices", "invoice",
                                                             "payments", "payment"}));
}

TEST(DestinationKeywords, AWordTwoDestinationsShareTellsNeitherApart) {
    const auto tools = tools_of(json::parse(R"({"tools": [{"type": "transfer_call",
      "destinations": [
        {"type": "number", "number": "+31201111111", "description": "Support - account problems"},
        {"type": "number", "number": "+31202222222", "description": "Billing - payment problems"},
        {"type": "number", "number": "+31203333333"}]}]})")
                                    .as_object());
    const auto entries = destination_keywords(tools.tools().front());
    EXPECT_EQ(entries[0].keywords, (std::vector<std::string>{"support", "account"}));
    EXPECT_EQ(entries[1].keywords, (std::vector<std::string>{"billing", "payment"}));
    EXPECT_TRUE(entries[2].keywords.empty());
    EXPECT_EQ(entries[2].label, "+31203333333") << "no description: the number is said";
    EXPECT_EQ(menu_text(tools.tools().front()),
              "press 1 for support, press 2 for billing, press 3 for +31203333333");
}

}  // namespace
}  // namespace tl::voice
