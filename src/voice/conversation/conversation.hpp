#pragma once
// The assistant's side of a live conversation (issue 6, DESIGN.md "Voice providers"): each caller
// turn (from the TurnDetector) is transcribed, the language model answers from the assistant's
// messages and tools, the answer is spoken sentence by sentence while it streams, tool calls go
// back to the call (transfer, end the call, function webhooks), the caller talking over the
// assistant stops it (barge-in), and silence is handled when the assistant asks for it.
//
// Thread-safety: none. Everything runs on the call's strand (the executor given); provider
// results are posted back to it. After stop() no action is taken and no callback touches the
// actions object, so the call may go away while provider work is still in flight.

#include "voice/listening/turn_detector.hpp"
#include "voice/providers/language_model.hpp"
#include "voice/providers/speech_to_text.hpp"
#include "voice/providers/tool_set.hpp"
#include "voice/text_to_speech.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tl::voice {

// speech_config.silence with autonomous_silence_handling (api-contract.md §3.5).
struct SilenceSettings {
    bool enabled = false;
    std::vector<std::string> messages;  // asked in turn; "Are you still there?" when none
    std::string final_message;          // then the call ends (end_reason silence_timeout)
    std::chrono::seconds first_check{3};
    std::chrono::seconds interval{12};
    int max_attempts = 3;
};

struct ConversationSettings {
    std::vector<ChatMessage> messages;  // llm_config.messages: the system prompt, examples
    std::string first_message;          // already being spoken by the call: the first turn
    std::string language;               // "en", "nl", ... for STT
    ToolSet tools;
    SilenceSettings silence;
    std::string end_call_message;
    // Outbound calls with voicemail_detection: the first thing heard is checked against
    // voicemail greetings (api-contract.md §6); a match speaks voicemail_message and hangs up.
    bool voicemail_detection = false;
    std::string voicemail_message;
};

// Whether `text` sounds like a voicemail greeting (English and Dutch phrases, api-contract.md §6).
bool sounds_like_voicemail(std::string_view text);

// The English phrases the embedded recogniser must know to hear a voicemail greeting.
std::vector<std::string> voicemail_vocabulary();

// What the conversation asks of its call. Called on the strand only.
class ConversationActions {
public:
    virtual ~ConversationActions() = default;
    // Synthesis then playout: `done` (on the strand) with the audio, or an error.
    virtual void synthesize(std::string text, std::function<void(Result<PcmPtr>)> done) = 0;
    virtual void play(PcmPtr audio) = 0;  // appended to what the caller hears
    virtual void stop_playing() = 0;      // drops queued audio (barge-in)
    virtual void transfer(const ConfiguredTool& tool, std::size_t destination) = 0;
    virtual void end_call(const std::string& message, const std::string& end_reason) = 0;
    // A provider failed (`provider`: "llm", "stt"): the apology has been heard; the call carries
    // out the assistant's `fallback` (a transfer, or a message then the end). The conversation
    // takes no further turn.
    virtual void fall_back(const std::string& provider, const std::string& error) = 0;
    // A function tool with a webhook: `done` on the strand with the result text or an error.
    virtual void call_function(const ConfiguredTool& tool,
                               const ToolCall& call,
                               std::function<void(Result<std::string>)> done) = 0;
    virtual void record_event(std::string type, std::string data_json) = 0;
    // How many words turn `turn` held (the turn detector's false-interruption check).
    virtual void report_words(std::uint64_t turn, std::size_t words) = 0;
    // Words for the call's transcript (its `messages`), begun at `started`: `kAssistant` what
    // the conversation had spoken to the caller (replies, `say`, silence prompts, apologies),
    // `kUser` what the caller said. Not the model's history: apologies are here only. What the
    // call speaks itself (the first message, transfer and end-call messages) it records itself.
    virtual void transcript_entry(Role role,
                                  const std::string& content,
                                  std::chrono::steady_clock::time_point started) = 0;
};

struct ConversationProviders {
    std::shared_ptr<SpeechToText> stt;
    std::shared_ptr<LanguageModel> llm;
};

class Conversation : public std::enable_shared_from_this<Conversation> {
public:
    Conversation(boost::asio::any_io_executor strand,
                 ConversationSettings settings,
                 ConversationProviders providers,
                 ConversationActions& actions);

    // The call answered and queued the first message: listening starts.
    void start();
    void on_turn(const TurnEvent& event);
    // The caller's audio queue ran empty (the assistant finished what it had to say).
    void on_playout_done();
    // A key press: heard as the caller saying that digit ("press 1 for sales").
    void on_dtmf(char digit);
    // POST /calls/{id}/control: say (spoken, in the transcript) and inject-context (a message
    // for the model; with `respond` the assistant answers now).
    void say(const std::string& text);
    void inject_context(const std::string& text, bool respond);
    void stop();

private:
    struct Segment {
        std::uint64_t id = 0;
        std::optional<PcmPtr> audio;
        bool failed = false;
    };

    using SteadyTime = std::chrono::steady_clock::time_point;

    void transcribe(const TurnEvent& event);
    void on_heard(std::uint64_t turn, Heard heard, SteadyTime started);
    void on_user_text(std::uint64_t turn, std::string text, SteadyTime started);
    // Closed-vocabulary dialog (conversation_confirmation.cpp, docs/listening.md).
    void ask_confirmation(std::string held_text, std::vector<ToolCall> calls);
    void on_answer(std::uint64_t turn, const std::string& text, SteadyTime started);
    void not_understood(const std::string& reprompt);
    void offer_menu();
    bool on_menu_key(char digit);
    void respond();
    void on_reply_text(std::uint64_t generation, std::string_view delta);
    void on_reply_done(std::uint64_t generation, Result<FinishReason> result);
    void speak_sentence(const std::string& sentence);
    void play_ready_segments();
    void run_tool_calls(std::vector<ToolCall> calls);
    void after_speech(std::function<void()> action);
    void interrupt();
    // Words the caller hears that the model did not say (an apology): the transcript only.
    void speak_aside(const std::string& text);
    // A provider failed: `apology` is spoken, then the call's fallback runs (no dead air).
    void fail(const std::string& provider, const std::string& error, const std::string& apology);
    void arm_silence();
    void on_silence();
    bool idle() const;

    boost::asio::any_io_executor strand_;
    ConversationSettings settings_;
    ConversationProviders providers_;
    ConversationActions& actions_;
    bool stopped_ = false;
    bool failed_ = false;  // a provider failed: the fallback is under way, no more turns

    std::vector<ChatMessage> history_;  // what the model sees (the call keeps the transcript)
    std::shared_ptr<ReplyStream> reply_;
    std::shared_ptr<PendingTranscription> transcription_;
    std::uint64_t generation_ = 0;  // bumps on every reply and every interruption
    std::string sentence_;          // text of the reply not spoken yet
    std::string reply_text_;        // the whole reply so far
    std::optional<SteadyTime> reply_started_;  // its first sentence went to synthesis
    std::vector<ToolCall> reply_tools_;
    std::deque<Segment> segments_;  // sentences in synthesis or waiting their turn to play
    std::uint64_t next_segment_ = 0;
    int playing_ = 0;               // segments handed to the call not yet played out
    std::function<void()> after_speech_;
    int pending_functions_ = 0;

    std::unique_ptr<boost::asio::steady_timer> silence_timer_;
    int silence_attempts_ = 0;
    bool voicemail_checked_ = false;
    bool caller_speaking_ = false;

    // A transfer or hang-up heard by a closed-vocabulary recogniser waits for the caller's yes.
    struct PendingConfirmation {
        std::vector<ToolCall> calls;
        std::string held_text;  // the reply that goes with them, said once confirmed
        std::string question;
    };
    std::optional<PendingConfirmation> confirmation_;
    bool next_reply_guarded_ = false;  // the next reply answers a closed-vocabulary turn
    bool hold_speech_ = false;         // the reply in flight is held until its tools are known
    int misunderstandings_ = 0;
    bool menu_offered_ = false;
};

// The sentences of `text` complete so far: each ends at . ! ? or a newline followed by a space
// (or the end, when `final`). Returns them and leaves the rest in `text`.
std::vector<std::string> take_sentences(std::string& text, bool final);

}  // namespace tl::voice
