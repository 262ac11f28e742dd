#include "voice/conversation/conversation.hpp"

#include "voice/conversation/offline_dialog.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace tl::voice {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::size_t word_count(std::string_view text) {
    std::size_t words = 0;
    bool in_word = false;
    for (const char c : text) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (!space && !in_word) ++words;
        in_word = !space;
    }
    return words;
}

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

constexpr std::string_view kVoicemailPhrases[] = {
    // English (api-contract.md §6)
    "voicemail", "voice mail", "leave a message", "please record", "unavailable", "not available",
    "not here", "after the tone", "after the beep", "press star", "speak your message",
    "call back later", "mailbox", "beep", "message",
    // Dutch
    "voicemailbox", "spreek een bericht in", "spreek uw bericht in", "laat een bericht achter",
    "na de piep", "na de toon", "niet bereikbaar", "niet beschikbaar", "bericht", "terugbellen",
    "ingesproken"};

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

bool sounds_like_voicemail(std::string_view text) {
    const auto heard = " " + lower(text) + " ";
    for (const auto phrase : kVoicemailPhrases) {
        // Whole words: "beep" in "the beep", not in "beeper".
        if (heard.find(" " + std::string(phrase) + " ") != std::string::npos) return true;
    }
    return false;
}

std::vector<std::string> voicemail_vocabulary() {
    return {"voice mail", "leave a message", "not available", "after the tone", "after the beep",
            "mailbox", "message", "unavailable", "call back later", "please record"};
}

std::vector<std::string> take_sentences(std::string& text, bool final) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool terminator = c == '.' || c == '!' || c == '?' || c == '\n';
        if (!terminator) continue;
        // "3.5" and "e.g." mid-word are not sentence ends: the terminator must be followed by
        // white space (or be the last character of a final text).
        const bool at_end = i + 1 == text.size();
        if (at_end ? !final : (text[i + 1] != ' ' && text[i + 1] != '\n')) continue;
        if (auto s = trimmed(std::string_view(text).substr(start, i + 1 - start)); !s.empty()) {
            out.push_back(std::move(s));
        }
        start = i + 1;
    }
    text.erase(0, start);
    if (final) {
        if (auto s = trimmed(text); !s.empty()) out.push_back(std::move(s));
        text.clear();
    }
    return out;
}

Conversation::Conversation(asio::any_io_executor strand,
                           ConversationSettings settings,
                           ConversationProviders providers,
                           ConversationActions& actions)
    : strand_(std::move(strand)),
      settings_(std::move(settings)),
      providers_(std::move(providers)),
      actions_(actions),
      history_(settings_.messages) {}

void Conversation::start() {
    if (!settings_.first_message.empty()) {
        // The call speaks it and puts it in the transcript; the model sees it as its own.
        history_.push_back({Role::kAssistant, settings_.first_message, {}, {}});
        ++playing_;  // the call is playing it; on_playout_done tells when it is over
    }
    arm_silence();
}

void Conversation::stop() {
    stopped_ = true;
    if (reply_) reply_->cancel();
    if (transcription_) transcription_->cancel();
    if (silence_timer_) silence_timer_->cancel();
    after_speech_ = nullptr;
}

bool Conversation::idle() const {
    return playing_ == 0 && segments_.empty() && !reply_ && !transcription_ &&
           pending_functions_ == 0 && !caller_speaking_;
}

// --- listening ---------------------------------------------------------------------------------

void Conversation::on_turn(const TurnEvent& event) {
    if (stopped_ || failed_) return;
    switch (event.kind) {
        case TurnEventKind::kSpeechStarted:
            caller_speaking_ = true;
            if (silence_timer_) silence_timer_->cancel();
            silence_attempts_ = 0;
            return;
        case TurnEventKind::kBargeIn:
            caller_speaking_ = true;
            if (silence_timer_) silence_timer_->cancel();
            silence_attempts_ = 0;
            actions_.record_event("conversation.barge_in",
                                  json::serialize(json::object{{"frame", event.frame}}));
            interrupt();
            return;
        case TurnEventKind::kEndOfTurn:
            caller_speaking_ = false;
            transcribe(event);
            return;
        case TurnEventKind::kResume:
            actions_.record_event("conversation.false_interruption", "{}");
            arm_silence();
            return;
    }
}

void Conversation::transcribe(const TurnEvent& event) {
    if (!providers_.stt || !event.utterance.audio) return;
    if (transcription_) transcription_->cancel();  // a newer turn supersedes an unfinished one
    const std::uint64_t turn = event.turn;
    // The turn ends now; the caller began speaking that many 20 ms frames ago.
    constexpr auto kFrame = std::chrono::milliseconds(20);
    const auto frames = std::max<std::int64_t>(0, event.frame - event.utterance.speech_start_frame);
    const SteadyTime started = std::chrono::steady_clock::now() - frames * kFrame;
    auto weak = weak_from_this();
    const Expecting expecting = confirmation_ ? Expecting::kYesOrNo : Expecting::kRequest;
    transcription_ = providers_.stt->listen(
        {event.utterance.audio, settings_.language, expecting},
        [weak, strand = strand_, turn, started](Result<Heard> heard) {
            auto self = weak.lock();
            if (!self) return;
            asio::post(strand, [self, turn, started, heard = std::move(heard)]() mutable {
                if (self->stopped_ || self->failed_) return;
                self->transcription_.reset();
                if (!heard) {
                    self->actions_.record_event(
                        "conversation.stt_error",
                        json::serialize(json::object{{"error", heard.error().message}}));
                    self->actions_.report_words(turn, 0);
                    // Never silent: the caller learns that they were not understood, then the
                    // assistant's fallback takes over (a recogniser that failed once, with no
                    // key or no host, fails again: asking again would leave them stuck).
                    self->fail("stt", heard.error().message,
                               "Sorry, I could not hear that.");
                    return;
                }
                self->on_heard(turn, std::move(*heard), started);
            });
        });
}

void Conversation::on_user_text(std::uint64_t turn, std::string text, SteadyTime started) {
    text = trimmed(text);
    actions_.report_words(turn, word_count(text));
    if (text.empty()) {
        actions_.record_event("conversation.no_words", "{}");
        arm_silence();
        return;
    }
    history_.push_back({Role::kUser, text, {}, {}});
    actions_.transcript_entry(Role::kUser, text, started);
    actions_.record_event("conversation.user", json::serialize(json::object{{"text", text}}));
    if (settings_.voicemail_detection && !std::exchange(voicemail_checked_, true) &&
        sounds_like_voicemail(text)) {
        actions_.record_event("conversation.voicemail", "{}");
        if (reply_) reply_->cancel();
        actions_.end_call(settings_.voicemail_message, "voicemail");
        stop();
        return;
    }
    respond();
}

void Conversation::on_dtmf(char digit) {
    if (stopped_ || failed_) return;
    const auto now = std::chrono::steady_clock::now();
    if (confirmation_) return on_answer(0, std::string(1, digit), now);
    if (on_menu_key(digit)) return;
    on_user_text(0, std::string(1, digit), now);
}

// --- answering ---------------------------------------------------------------------------------

void Conversation::respond() {
    if (stopped_ || failed_ || !providers_.llm) return;
    if (reply_) reply_->cancel();
    const std::uint64_t generation = ++generation_;
    sentence_.clear();
    reply_text_.clear();
    reply_started_.reset();
    reply_tools_.clear();
    if (silence_timer_) silence_timer_->cancel();
    ChatRequest request{history_, settings_.tools.definitions()};
    auto weak = weak_from_this();
    ReplyHandler handler;
    handler.on_text = [weak, strand = strand_, generation](std::string_view delta) {
        if (auto self = weak.lock()) {
            asio::post(strand, [self, generation, delta = std::string(delta)] {
                self->on_reply_text(generation, delta);
            });
        }
    };
    handler.on_tool_call = [weak, strand = strand_, generation](ToolCall call) {
        if (auto self = weak.lock()) {
            asio::post(strand, [self, generation, call = std::move(call)]() mutable {
                if (self->stopped_ || generation != self->generation_) return;
                self->reply_tools_.push_back(std::move(call));
            });
        }
    };
    handler.on_done = [weak, strand = strand_, generation](Result<FinishReason> result) {
        if (auto self = weak.lock()) {
            asio::post(strand, [self, generation, result = std::move(result)]() mutable {
                self->on_reply_done(generation, std::move(result));
            });
        }
    };
    hold_speech_ = std::exchange(next_reply_guarded_, false);
    reply_ = providers_.llm->reply(std::move(request), std::move(handler));
}

void Conversation::on_reply_text(std::uint64_t generation, std::string_view delta) {
    if (stopped_ || generation != generation_) return;
    reply_text_ += delta;
    if (hold_speech_) return;  // said once it is known whether it needs a confirmation first
    sentence_ += delta;
    // Speech starts with the first complete sentence, not with the whole reply.
    for (auto& sentence : take_sentences(sentence_, false)) {
        if (!reply_started_) reply_started_ = std::chrono::steady_clock::now();
        speak_sentence(sentence);
    }
}

void Conversation::on_reply_done(std::uint64_t generation, Result<FinishReason> result) {
    if (stopped_ || generation != generation_) return;
    reply_.reset();
    if (std::exchange(hold_speech_, false)) {
        const bool confirm =
            result && std::any_of(reply_tools_.begin(), reply_tools_.end(), [&](const auto& c) {
                return needs_confirmation(settings_.tools, c);
            });
        if (confirm) return ask_confirmation(trimmed(reply_text_), std::exchange(reply_tools_, {}));
        sentence_ = reply_text_;  // nothing to confirm: say it all now
    }
    for (auto& sentence : take_sentences(sentence_, true)) {
        if (!reply_started_) reply_started_ = std::chrono::steady_clock::now();
        speak_sentence(sentence);
    }
    const auto text = trimmed(reply_text_);
    if (!text.empty() || !reply_tools_.empty()) {
        history_.push_back({Role::kAssistant, text, reply_tools_, {}});
        if (!text.empty()) {
            actions_.transcript_entry(Role::kAssistant, text,
                                      reply_started_.value_or(std::chrono::steady_clock::now()));
        }
        actions_.record_event("conversation.assistant",
                              json::serialize(json::object{{"text", text},
                                                           {"tool_calls", reply_tools_.size()}}));
    }
    if (!result) {
        actions_.record_event("conversation.llm_error",
                              json::serialize(json::object{{"error", result.error().message}}));
        // Never silent: the caller hears that something went wrong, then the fallback (a
        // transfer to a person, or a goodbye) follows at once. The model did not say the
        // apology: the transcript has it, the history does not. Tools of a broken reply are
        // not run.
        reply_tools_.clear();
        fail("llm", result.error().message,
             text.empty() ? "Sorry, I had a problem answering." : std::string());
        return;
    }
    if (!reply_tools_.empty()) run_tool_calls(std::exchange(reply_tools_, {}));
    if (idle()) arm_silence();
}

void Conversation::speak_sentence(const std::string& sentence) {
    const std::uint64_t id = ++next_segment_;
    segments_.push_back({id, std::nullopt, false});
    auto weak = weak_from_this();
    // Sentences are synthesised in parallel but played in order: each waits for the ones before.
    actions_.synthesize(sentence, [weak, id](Result<PcmPtr> audio) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        for (auto& s : self->segments_) {
            if (s.id != id) continue;  // gone: a barge-in dropped it
            if (audio) {
                s.audio = std::move(*audio);
            } else {
                s.failed = true;
                self->actions_.record_event(
                    "assistant.tts_error",
                    json::serialize(json::object{{"error", audio.error().message}}));
            }
            break;
        }
        self->play_ready_segments();
    });
}

void Conversation::play_ready_segments() {
    while (!segments_.empty() && (segments_.front().audio || segments_.front().failed)) {
        PcmPtr audio = segments_.front().audio.value_or(nullptr);
        segments_.pop_front();
        if (!audio) continue;  // its synthesis failed: the next sentence goes on
        actions_.play(std::move(audio));
        ++playing_;
    }
    if (idle() && after_speech_) std::exchange(after_speech_, nullptr)();
}

void Conversation::on_playout_done() {
    if (stopped_) return;
    // The call's queue ran empty: everything handed over so far has been heard.
    playing_ = 0;
    if (segments_.empty() && after_speech_) return std::exchange(after_speech_, nullptr)();
    if (idle()) arm_silence();
}

void Conversation::after_speech(std::function<void()> action) {
    if (playing_ == 0 && segments_.empty()) return action();
    after_speech_ = std::move(action);
}

void Conversation::interrupt() {
    actions_.stop_playing();
    ++generation_;  // results of the reply in flight are dropped
    if (reply_) {
        reply_->cancel();
        reply_.reset();
        const auto text = trimmed(reply_text_);
        if (!text.empty()) {
            history_.push_back({Role::kAssistant, text + " ...", {}, {}});
            actions_.transcript_entry(Role::kAssistant, text + " ...",
                                      reply_started_.value_or(std::chrono::steady_clock::now()));
        }
    }
    segments_.clear();  // sentences still in synthesis are dropped when they come back
    playing_ = 0;
    sentence_.clear();
    reply_text_.clear();
    reply_started_.reset();
    // An action the assistant already decided (a transfer, the end of the call) still happens.
    if (after_speech_) std::exchange(after_speech_, nullptr)();
}

// --- tools -------------------------------------------------------------------------------------

void Conversation::run_tool_calls(std::vector<ToolCall> calls) {
    for (auto& call : calls) {
        const ConfiguredTool* tool = settings_.tools.find(call.name);
        auto tool_result = [this, &call](std::string result) {
            history_.push_back({Role::kTool, std::move(result), {}, call.id});
        };
        if (tool == nullptr) {
            tool_result("Error: there is no tool named " + call.name);
            actions_.record_event("conversation.unknown_tool",
                                  json::serialize(json::object{{"name", call.name}}));
            continue;
        }
        actions_.record_event("conversation.tool_call",
                              json::serialize(json::object{{"name", call.name},
                                                           {"arguments", call.arguments}}));
        switch (tool->kind) {
            case ToolKind::kTransferCall: {
                auto destination = ToolSet::transfer_destination(*tool, call);
                if (!destination) {
                    tool_result("Error: " + destination.error().message);
                    respond();
                    return;
                }
                tool_result("Transferring the call.");
                const std::size_t index = *destination;
                after_speech([this, tool, index] {
                    if (!stopped_) actions_.transfer(*tool, index);
                });
                return;  // the call takes over
            }
            case ToolKind::kEndCall: {
                tool_result("Ending the call.");
                after_speech([this] {
                    if (!stopped_) actions_.end_call(settings_.end_call_message, "assistant_ended");
                });
                return;
            }
            case ToolKind::kFunction: {
                ++pending_functions_;
                auto weak = weak_from_this();
                actions_.call_function(*tool, call,
                                       [weak, id = call.id](Result<std::string> result) {
                                           auto self = weak.lock();
                                           if (!self || self->stopped_) return;
                                           --self->pending_functions_;
                                           self->history_.push_back(
                                               {Role::kTool,
                                                result ? *result : "Error: " + result.error().message,
                                                {},
                                                id});
                                           if (self->pending_functions_ == 0) self->respond();
                                       });
                break;
            }
        }
    }
    if (pending_functions_ == 0) respond();
}

// --- control -----------------------------------------------------------------------------------

void Conversation::say(const std::string& text) {
    if (stopped_ || failed_ || text.empty()) return;
    // Said for the assistant (a `say` command, a silence prompt): the model sees it as its own.
    history_.push_back({Role::kAssistant, text, {}, {}});
    actions_.transcript_entry(Role::kAssistant, text, std::chrono::steady_clock::now());
    std::string rest = text;
    for (auto& sentence : take_sentences(rest, true)) speak_sentence(sentence);
}

void Conversation::inject_context(const std::string& text, bool respond_now) {
    if (stopped_ || text.empty()) return;
    history_.push_back({Role::kSystem, text, {}, {}});
    actions_.record_event("conversation.context", json::serialize(json::object{{"text", text}}));
    if (respond_now) respond();
}

void Conversation::fail(const std::string& provider,
                        const std::string& error,
                        const std::string& apology) {
    if (failed_) return;
    failed_ = true;
    if (silence_timer_) silence_timer_->cancel();
    if (transcription_) {
        transcription_->cancel();
        transcription_.reset();
    }
    if (!apology.empty()) speak_aside(apology);
    // After the apology has been heard (or at once when nothing is playing), never after the
    // silence timeout.
    after_speech([this, provider, error] {
        if (!stopped_) actions_.fall_back(provider, error);
    });
}

void Conversation::speak_aside(const std::string& text) {
    actions_.transcript_entry(Role::kAssistant, text, std::chrono::steady_clock::now());
    speak_sentence(text);
}

// --- silence -----------------------------------------------------------------------------------

void Conversation::arm_silence() {
    if (stopped_ || failed_ || !settings_.silence.enabled || !idle()) return;
    const auto wait = silence_attempts_ == 0 ? settings_.silence.first_check
                                             : settings_.silence.interval;
    silence_timer_ = std::make_unique<asio::steady_timer>(strand_, wait);
    silence_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!ec && self && !self->stopped_) self->on_silence();
    });
}

void Conversation::on_silence() {
    if (!idle()) return;
    const auto& s = settings_.silence;
    if (silence_attempts_ >= s.max_attempts) {
        actions_.record_event("conversation.silence_timeout", "{}");
        actions_.end_call(s.final_message, "silence_timeout");
        stop();
        return;
    }
    const std::string prompt =
        s.messages.empty() ? "Are you still there?"
                           : s.messages[static_cast<std::size_t>(silence_attempts_) % s.messages.size()];
    ++silence_attempts_;
    actions_.record_event("conversation.silence_prompt",
                          json::serialize(json::object{{"attempt", silence_attempts_}}));
    say(prompt);
}

}  // namespace tl::voice
