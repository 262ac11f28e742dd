#pragma once
// Test doubles of the conversation's providers and call (tests only).

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "voice/conversation/conversation.hpp"
#include "voice/providers/scripted_llm.hpp"

namespace tl::voice::test {

namespace asio = boost::asio;

// A speech-to-text that "hears" what the test says the utterance was.
class ScriptedEars : public SpeechToText {
public:
    explicit ScriptedEars(asio::any_io_executor ex) : ex_(std::move(ex)) {}
    std::string next = "";
    // Set: heard as a closed-vocabulary recogniser would report it (with a confidence).
    std::optional<Heard> next_heard;
    std::vector<Expecting> expected;  // what each request said it expected
    std::shared_ptr<PendingTranscription> transcribe(TranscriptionRequest, Done done) override {
        asio::post(ex_, [text = next, done = std::move(done)] { done(text); });
        return nullptr;
    }
    std::shared_ptr<PendingTranscription> listen(TranscriptionRequest request,
                                                 HeardDone done) override {
        expected.push_back(request.expecting);
        if (!next_heard) return SpeechToText::listen(std::move(request), std::move(done));
        asio::post(ex_, [heard = *next_heard, done = std::move(done)] { done(heard); });
        return nullptr;
    }
    std::string name() const override { return "ears"; }

private:
    asio::any_io_executor ex_;
};

class RecordingActions : public ConversationActions {
public:
    std::vector<std::string> spoken;
    std::vector<std::string> events;
    std::optional<std::size_t> transferred_to;
    std::optional<std::string> ended_with;
    std::optional<std::string> fell_back;
    int stops = 0;
    std::vector<std::pair<Role, std::string>> transcript;
    std::function<void()> on_play;

    void synthesize(std::string text, std::function<void(Result<PcmPtr>)> done) override {
        spoken.push_back(text);
        done(std::make_shared<const media::Pcm>(160, 0));
    }
    void play(PcmPtr) override {
        if (on_play) on_play();
    }
    void stop_playing() override { ++stops; }
    void transfer(const ConfiguredTool&, std::size_t destination) override {
        transferred_to = destination;
    }
    void end_call(const std::string& message, const std::string& reason) override {
        ended_with = reason + ":" + message;
    }
    void fall_back(const std::string& provider, const std::string& error) override {
        fell_back = provider + ": " + error;
        events.push_back("fall_back");
    }
    void call_function(const ConfiguredTool&, const ToolCall&,
                       std::function<void(Result<std::string>)> done) override {
        done(std::string("ok"));
    }
    void record_event(std::string type, std::string) override { events.push_back(type); }
    void report_words(std::uint64_t, std::size_t) override {}
    void transcript_entry(Role role,
                          const std::string& content,
                          std::chrono::steady_clock::time_point) override {
        transcript.emplace_back(role, content);
    }
};

// A conversation over a scripted model, on an io_context the test runs by hand.
class ConversationHarness : public ::testing::Test {
protected:
    // Starts the conversation with the scripted model of `llm_config` and its tools.
    void start(const boost::json::object& llm_config, ConversationSettings settings) {
        auto scripted = parse_scripted_config(llm_config);
        ASSERT_TRUE(scripted) << scripted.error().message;
        settings.tools = scripted->tools;
        ears_ = std::make_shared<ScriptedEars>(strand_);
        conversation_ = std::make_shared<Conversation>(
            strand_, std::move(settings),
            ConversationProviders{ears_,
                                  make_scripted_language_model(strand_, std::move(*scripted))},
            actions_);
        conversation_->start();
    }
    // The caller's turn ends (the ears say what was heard); runs what follows.
    void end_turn() {
        TurnEvent end;
        end.kind = TurnEventKind::kEndOfTurn;
        end.turn = ++turn_;
        end.utterance.audio = std::make_shared<const media::Pcm>(1600, 0);
        conversation_->on_turn(end);
        run();
    }
    void run() {
        io_.restart();
        io_.run();
    }

    asio::io_context io_;
    asio::strand<asio::io_context::executor_type> strand_{asio::make_strand(io_)};
    std::shared_ptr<ScriptedEars> ears_;
    RecordingActions actions_;
    std::shared_ptr<Conversation> conversation_;
    std::uint64_t turn_ = 0;
};

}  // namespace tl::voice::test
