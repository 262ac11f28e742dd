#include "voice/conversation/conversation.hpp"

#include "voice/conversation/conversation_test_support.hpp"
#include "voice/providers/scripted_llm.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>

#include <algorithm>

namespace tl::voice {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using test::RecordingActions;
using test::ScriptedEars;

TEST(TakeSentences, SplitsCompleteSentencesAndKeepsTheRest) {
    std::string text = "Hello there. How are you? I am fi";
    EXPECT_EQ(take_sentences(text, false),
              (std::vector<std::string>{"Hello there.", "How are you?"}));
    EXPECT_EQ(text, " I am fi");
    text += "ne at 3.5 degrees";
    EXPECT_TRUE(take_sentences(text, false).empty()) << "3.5 is not a sentence end";
    EXPECT_EQ(take_sentences(text, true), (std::vector<std::string>{"I am fine at 3.5 degrees"}));
    EXPECT_TRUE(text.empty());
}

TEST(Voicemail, GreetingsInEnglishAndDutchAreRecognisedByWholePhrases) {
    EXPECT_TRUE(sounds_like_voicemail("please leave a message after the tone"));
    EXPECT_TRUE(sounds_like_voicemail("Hallo, spreek een bericht in na de piep"));
    EXPECT_TRUE(sounds_like_voicemail("the person you called is not available"));
    EXPECT_FALSE(sounds_like_voicemail("yes hello who is this"));
    EXPECT_FALSE(sounds_like_voicemail("my beeper is broken")) << "whole words only";
}

class ConversationTest : public test::ConversationHarness {
protected:
    void SetUp() override {
        ConversationSettings settings;
        settings.first_message = "Welcome.";
        settings.end_call_message = "Bye now.";
        start(json::parse(R"({
          "provider": "scripted",
          "tools": [{"type": "transfer_call", "destinations": [
              {"type": "number", "number": "+31201234567", "description": "billing"},
              {"type": "number", "number": "+31207654321", "description": "sales"}]},
            {"type": "end_call"}],
          "rules": [
            {"when": ["sales"], "reply": "Connecting you to sales.",
             "tool": {"name": "transfer_call", "destination": "sales"}},
            {"when": ["goodbye"], "tool": {"name": "end_call"}}],
          "default_reply": "Sorry, I did not catch that."})").as_object(),
              std::move(settings));
        conversation_->on_playout_done();  // the greeting played
    }

    void caller_says(std::string text) {
        ears_->next = std::move(text);
        end_turn();
    }
};

TEST_F(ConversationTest, AskingForSalesSpeaksTheReplyThenTransfersAfterItPlayed) {
    caller_says("I want to talk to sales please");
    EXPECT_EQ(actions_.spoken, (std::vector<std::string>{"Connecting you to sales."}));
    EXPECT_FALSE(actions_.transferred_to) << "not before the reply has been heard";
    conversation_->on_playout_done();
    ASSERT_TRUE(actions_.transferred_to);
    EXPECT_EQ(*actions_.transferred_to, 1u);
    // The welcome is the call's to record (it speaks it); the conversation reports the rest.
    EXPECT_EQ(actions_.transcript,
              (std::vector<std::pair<Role, std::string>>{
                  {Role::kUser, "I want to talk to sales please"},
                  {Role::kAssistant, "Connecting you to sales."}}));
}

TEST_F(ConversationTest, GoodbyeEndsTheCallWithTheEndCallMessage) {
    caller_says("ok goodbye");
    EXPECT_EQ(actions_.ended_with, "assistant_ended:Bye now.");
}

TEST_F(ConversationTest, UnmatchedSpeechGetsTheDefaultReplyAndNothingHeardGetsNothing) {
    caller_says("what is the weather");
    EXPECT_EQ(actions_.spoken, (std::vector<std::string>{"Sorry, I did not catch that."}));
    caller_says("");
    EXPECT_EQ(actions_.spoken.size(), 1u);
    EXPECT_NE(std::find(actions_.events.begin(), actions_.events.end(), "conversation.no_words"),
              actions_.events.end());
}

TEST_F(ConversationTest, BargeInStopsPlaybackAndDropsTheRestOfTheReply) {
    caller_says("what is the weather");
    TurnEvent barge;
    barge.kind = TurnEventKind::kBargeIn;
    conversation_->on_turn(barge);
    EXPECT_EQ(actions_.stops, 1);
    EXPECT_NE(std::find(actions_.events.begin(), actions_.events.end(), "conversation.barge_in"),
              actions_.events.end());
}

TEST_F(ConversationTest, StoppedConversationTakesNoAction) {
    conversation_->stop();
    caller_says("sales");
    EXPECT_TRUE(actions_.spoken.empty());
    EXPECT_FALSE(actions_.transferred_to);
}

// A model that fails every reply, and records what it was sent.
class FailingModel : public LanguageModel {
public:
    explicit FailingModel(asio::any_io_executor ex) : ex_(std::move(ex)) {}
    std::vector<ChatRequest> requests;
    std::shared_ptr<ReplyStream> reply(ChatRequest request, ReplyHandler handler) override {
        requests.push_back(std::move(request));
        asio::post(ex_, [handler = std::move(handler)] {
            handler.on_done(make_error(Errc::kUnavailable, "provider down"));
        });
        return nullptr;
    }
    std::string name() const override { return "failing"; }

private:
    asio::any_io_executor ex_;
};

TEST(ConversationRecord, AnLlmErrorIsApologisedForThenTheFallbackRunsOnce) {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    auto ears = std::make_shared<ScriptedEars>(strand);
    auto model = std::make_shared<FailingModel>(strand);
    RecordingActions actions;
    ConversationSettings settings;
    settings.first_message = "Welcome.";
    auto conversation = std::make_shared<Conversation>(
        strand, std::move(settings), ConversationProviders{ears, model}, actions);
    conversation->start();
    conversation->on_playout_done();
    int plays = 0;
    actions.on_play = [&] { ++plays; };
    for (const char* words : {"hello", "hello again"}) {
        ears->next = words;
        TurnEvent end;
        end.kind = TurnEventKind::kEndOfTurn;
        end.turn = 1;
        end.utterance.audio = std::make_shared<const media::Pcm>(1600, 0);
        conversation->on_turn(end);
        io.restart();
        io.run();
        // The apology is playing: the fallback waits for it, not for a silence timeout.
        if (std::string_view(words) == "hello") {
            EXPECT_FALSE(actions.fell_back) << "before the apology was heard";
        }
        conversation->on_playout_done();
    }
    const std::string apology = "Sorry, I had a problem answering.";
    // The second turn came after the failure: nobody answers it, the fallback has the call.
    EXPECT_EQ(actions.transcript,
              (std::vector<std::pair<Role, std::string>>{{Role::kUser, "hello"},
                                                          {Role::kAssistant, apology}}));
    EXPECT_EQ(plays, 1);
    ASSERT_TRUE(actions.fell_back);
    EXPECT_EQ(actions.fell_back->rfind("llm: ", 0), 0u) << *actions.fell_back;
    EXPECT_EQ(std::count(actions.events.begin(), actions.events.end(), "fall_back"), 1);
    const auto error_at = std::find(actions.events.begin(), actions.events.end(),
                                    "conversation.llm_error");
    EXPECT_LT(error_at - actions.events.begin(),
              std::find(actions.events.begin(), actions.events.end(), "fall_back") -
                  actions.events.begin());
    ASSERT_EQ(model->requests.size(), 1u);
    std::vector<std::string> seen;
    for (const auto& m : model->requests[0].messages) seen.push_back(m.content);
    EXPECT_EQ(seen, (std::vector<std::string>{"Welcome.", "hello"}))
        << "the model must not be told it said the apology";
}

// A recogniser that fails every turn.
class DeafEars : public SpeechToText {
public:
    explicit DeafEars(asio::any_io_executor ex) : ex_(std::move(ex)) {}
    std::shared_ptr<PendingTranscription> transcribe(TranscriptionRequest, Done done) override {
        asio::post(ex_, [done = std::move(done)] {
            done(make_error(Errc::kUnavailable, "no key"));
        });
        return nullptr;
    }
    std::string name() const override { return "deaf"; }

private:
    asio::any_io_executor ex_;
};

TEST(ConversationRecord, AnSttErrorIsApologisedForThenTheFallbackRuns) {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    auto model = std::make_shared<FailingModel>(strand);
    RecordingActions actions;
    auto ears = std::make_shared<DeafEars>(strand);
    auto conversation = std::make_shared<Conversation>(
        strand, ConversationSettings{}, ConversationProviders{ears, model}, actions);
    conversation->start();
    TurnEvent end;
    end.kind = TurnEventKind::kEndOfTurn;
    end.turn = 1;
    end.utterance.audio = std::make_shared<const media::Pcm>(1600, 0);
    conversation->on_turn(end);
    io.restart();
    io.run();
    EXPECT_EQ(actions.transcript, (std::vector<std::pair<Role, std::string>>{
                                      {Role::kAssistant, "Sorry, I could not hear that."}}));
    EXPECT_FALSE(actions.fell_back);
    conversation->on_playout_done();
    EXPECT_EQ(actions.fell_back, "stt: no key");
    EXPECT_TRUE(model->requests.empty());
}

}  // namespace
}  // namespace tl::voice
