// Measures offline understanding (docs/listening.md "Measured understanding"): a fixed set of
// natural phrasings per intent, spoken by every English flite and espeak-ng voice at 8 kHz,
// clean and with white noise 15 dB below the speech, through what a call uses: G.711 mu-law,
// the turn detector, the embedded recogniser, the scripted model and the confirmation dialog.
// The caller answers a confirmation truthfully ("yes" or "no" in the same voice).
//
// Outcomes per request: correct (the intended transfer or hang-up, after the caller's yes; for a
// sentence with no intent, nothing done), asked again (nothing proposed, or the answer not
// understood: the dialog asks again or offers the keypad), wrong (a transfer or hang-up the
// caller did not ask for: their "no" heard as a yes, or a yes to a wrong proposal).
//
// Usage: tl_understanding_measure [--min-clean PCT] [--min-noisy PCT] [--verbose] [--voice NAME]
// Exits 1 when any action is wrong or a correct share is under its minimum.

#include <boost/json.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "voice/conversation/offline_dialog.hpp"
#include "voice/listening/listening_test_audio.hpp"
#include "voice/listening/sphinx_recognizer.hpp"
#include "voice/listening/turn_detector.hpp"
#include "voice/providers/scripted_llm.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;

// A small business's assistant, written as docs/providers.md suggests.
constexpr const char* kAssistant = R"({
  "provider": "scripted",
  "tools": [{"type": "transfer_call", "destinations": [
      {"type": "number", "number": "+31201111111", "description": "Sales team - for pricing and quotes"},
      {"type": "number", "number": "+31202222222", "description": "Technical support - for problems with your internet or equipment"},
      {"type": "number", "number": "+31203333333", "description": "Billing - for invoices and payments"}]},
    {"type": "end_call"}],
  "rules": [{"when": ["goodbye"], "tool": {"name": "end_call"}}],
  "default_reply": "Sorry, I did not catch that. Who would you like to talk to?"})";

const char* const kIntents[] = {"sales", "support", "billing"};  // by destination index

struct Phrase {
    const char* intent;  // "sales", "support", "billing", "goodbye", or "" (no intent)
    const char* text;
};

// Fixed: changing it changes the figures in docs/listening.md.
constexpr Phrase kPhrases[] = {
    {"sales", "I want to talk to sales"},
    {"sales", "can you put me through to your sales team"},
    {"sales", "I would like a quote for a new connection"},
    {"sales", "I have a question about your pricing"},
    {"sales", "sales please"},
    {"support", "I need technical support"},
    {"support", "my internet is not working, I need support"},
    {"support", "can I talk to someone in support"},
    {"support", "I have a problem with my equipment"},
    {"support", "support please"},
    {"billing", "I have a question about my invoice"},
    {"billing", "billing please"},
    {"billing", "can you put me through to billing"},
    {"billing", "I want to pay an invoice"},
    {"billing", "I have a question about a payment"},
    {"goodbye", "goodbye"},
    {"goodbye", "that's all, thank you, goodbye"},
    {"goodbye", "okay, goodbye"},
    {"", "what are your opening hours"},
    {"", "hello, is anyone there"},
    {"", "I have a question"},
    {"", "my name is John Smith"},
    {"", "can you hear me"},
};

struct Voice {
    const char* engine;  // "flite" or "espeak-ng"
    const char* name;
};
constexpr Voice kVoices[] = {
    {"flite", "kal"},           {"flite", "kal16"},          {"flite", "awb"},
    {"flite", "rms"},           {"flite", "slt"},            {"espeak-ng", "en-us"},
    {"espeak-ng", "en-gb"},     {"espeak-ng", "en-gb-scotland"}, {"espeak-ng", "en-gb-x-gbclan"},
    {"espeak-ng", "en-gb-x-rp"}, {"espeak-ng", "en-gb-x-gbcwmd"}, {"espeak-ng", "en-029"},
    {"espeak-ng", "en-us-nyc"},
};

enum class Outcome { kCorrect, kAskedAgain, kWrong };

struct Tally {
    int correct = 0;
    int asked_again = 0;
    int wrong = 0;
    void add(Outcome o) {
        (o == Outcome::kCorrect ? correct : o == Outcome::kWrong ? wrong : asked_again)++;
    }
    int total() const { return correct + asked_again + wrong; }
    std::string str() const {
        return fmt::format("{:3}/{:3} correct ({:5.1f} %), {:3} asked again, {} wrong", correct,
                           total(), total() ? 100.0 * correct / total() : 0.0, asked_again, wrong);
    }
};

media::Pcm speak(const Voice& voice, const std::string& text) {
    auto pcm = std::string(voice.engine) == "flite" ? test::flite(voice.name, text)
                                                    : test::espeak_voice(voice.name, text);
    if (!pcm) throw ErrorException(pcm.error());
    return std::move(*pcm);
}

// The turns a call would hear: the line's noise (3 s of it before the caller speaks, as while
// the greeting plays), the speech, 1 s after it, mu-law.
std::vector<std::shared_ptr<const media::Pcm>> turns_of(const media::Pcm& speech, bool noisy) {
    const media::Pcm before = test::silence(3000);
    const media::Pcm after = test::silence(1000);
    media::Pcm audio = test::concat({&before, &speech, &after});
    const double noise = noisy ? test::speech_level_dbfs(speech) - 15 : -55;
    audio = test::through_ulaw(
        test::mix(audio, test::white_noise(static_cast<int>(audio.size() / 8), noise, 5)));
    std::vector<std::shared_ptr<const media::Pcm>> turns;
    TurnDetector detector({}, {}, [&](const TurnEvent& e) {
        if (e.kind == TurnEventKind::kEndOfTurn) turns.push_back(e.utterance.audio);
    });
    for (std::size_t i = 0; i + kFrameSamples <= audio.size(); i += kFrameSamples) {
        detector.push(std::span<const std::int16_t>(audio).subspan(i, kFrameSamples));
    }
    return turns;
}

Heard hear(SpeechToText& stt, std::shared_ptr<const media::Pcm> audio, Expecting expecting) {
    std::promise<Result<Heard>> promise;
    auto future = promise.get_future();
    stt.listen({std::move(audio), "en", expecting},
               [&promise](Result<Heard> heard) { promise.set_value(std::move(heard)); });
    auto heard = future.get();
    if (!heard) throw ErrorException(heard.error());
    return std::move(*heard);
}

// What the assistant proposes for what it heard: an intent name, or "" (nothing: asks again).
std::string proposal(const ScriptedConfig& config, const ToolSet& tools, const Heard& heard) {
    if (!heard.understood) return "";
    const auto reply = scripted_reply(config, {{Role::kUser, heard.text, {}, {}}});
    if (!reply.tool) return "";
    const ConfiguredTool* tool = tools.find(reply.tool->name);
    if (tool->kind == ToolKind::kEndCall) return "goodbye";
    auto index = ToolSet::transfer_destination(*tool, *reply.tool);
    return index ? kIntents[*index] : "";
}

struct Result_ {
    std::string voice;
    bool noisy = false;
    const Phrase* phrase = nullptr;
    Outcome outcome = Outcome::kAskedAgain;
    std::string detail;
};

}  // namespace
}  // namespace tl::voice

int main(int argc, char** argv) {
    using namespace tl::voice;
    double min_clean = 0;
    double min_noisy = 0;
    bool verbose = false;
    std::string only_voice;  // one voice's name ("rms"), for a quick look
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--min-clean") == 0 && i + 1 < argc) min_clean = std::stod(argv[++i]);
        else if (std::strcmp(argv[i], "--min-noisy") == 0 && i + 1 < argc) min_noisy = std::stod(argv[++i]);
        else if (std::strcmp(argv[i], "--verbose") == 0) verbose = true;
        else if (std::strcmp(argv[i], "--voice") == 0 && i + 1 < argc) only_voice = argv[++i];
        else {
            std::cerr << "usage: tl_understanding_measure [--min-clean PCT] [--min-noisy PCT] [--verbose] "
                         "[--voice NAME]\n";
            return 2;
        }
    }
    try {
        const auto llm = json::parse(kAssistant).as_object();
        auto config = parse_scripted_config(llm);
        if (!config) throw tl::ErrorException(config.error());
        const ToolSet& tools = config->tools;
        auto recognizer = SphinxRecognizer::create({.vocabulary = config->vocabulary(), .decoders = 2});
        if (!recognizer) throw tl::ErrorException(recognizer.error());
        SphinxRecognizer& stt = **recognizer;

        std::vector<Result_> results;
        std::mutex mutex;
        std::atomic<std::size_t> next_voice{0};
        auto work = [&] {
            for (std::size_t v; (v = next_voice++) < std::size(kVoices);) {
                const Voice& voice = kVoices[v];
                if (!only_voice.empty() && only_voice != voice.name) continue;
                const auto yes = speak(voice, "yes");
                const auto no = speak(voice, "no");
                for (const auto& phrase : kPhrases) {
                    const auto speech = speak(voice, phrase.text);
                    for (bool noisy : {false, true}) {
                        Result_ r{fmt::format("{} {}", voice.engine, voice.name), noisy, &phrase,
                                  Outcome::kAskedAgain, ""};
                        std::string proposed;
                        for (const auto& turn : turns_of(speech, noisy)) {
                            const Heard heard = hear(stt, turn, Expecting::kRequest);
                            r.detail += "[" + heard.text + "]";
                            proposed = proposal(*config, tools, heard);
                            if (!proposed.empty()) break;
                        }
                        const std::string wanted = phrase.intent;
                        if (proposed.empty()) {
                            r.outcome = wanted.empty() ? Outcome::kCorrect : Outcome::kAskedAgain;
                        } else {
                            // Asked "<destination>, is that right?": the caller tells the truth.
                            const bool right = proposed == wanted;
                            Answer answer = Answer::kUnclear;
                            for (const auto& turn : turns_of(right ? yes : no, noisy)) {
                                const Heard heard = hear(stt, turn, Expecting::kYesOrNo);
                                r.detail += fmt::format(" -> {}? [{}] {:.2f}", proposed,
                                                        heard.text, heard.confidence.value_or(0));
                                answer = heard.understood ? answer_of(heard.text) : Answer::kUnclear;
                                if (answer != Answer::kUnclear) break;
                            }
                            if (answer == Answer::kYes) {
                                r.outcome = right ? Outcome::kCorrect : Outcome::kWrong;
                            }
                        }
                        std::lock_guard lock(mutex);
                        results.push_back(std::move(r));
                    }
                }
            }
        };
        std::thread second(work);
        work();
        second.join();

        std::map<std::string, Tally> by_voice[2];
        std::map<std::string, Tally> by_intent[2];
        Tally intents[2];
        Tally without_intent[2];
        for (const auto& r : results) {
            const int n = r.noisy ? 1 : 0;
            const std::string intent = *r.phrase->intent ? r.phrase->intent : "(no intent)";
            by_voice[n][r.voice].add(r.outcome);
            by_intent[n][intent].add(r.outcome);
            (*r.phrase->intent ? intents[n] : without_intent[n]).add(r.outcome);
            if (verbose || r.outcome == Outcome::kWrong) {
                std::cout << (r.outcome == Outcome::kWrong ? "WRONG " : r.outcome == Outcome::kCorrect ? "ok    " : "again ")
                          << (r.noisy ? "noisy " : "clean ") << r.voice << " '" << r.phrase->text
                          << "' " << r.detail << "\n";
            }
        }
        bool pass = true;
        for (int n = 0; n < 2; ++n) {
            const double minimum = n == 0 ? min_clean : min_noisy;
            std::cout << "\n== " << (n == 0 ? "clean" : "noise 15 dB below the speech") << " ==\n";
            for (const auto& [voice, t] : by_voice[n]) std::cout << fmt::format("  {:26} {}\n", voice, t.str());
            for (const auto& [intent, t] : by_intent[n]) std::cout << fmt::format("  {:26} {}\n", intent, t.str());
            std::cout << fmt::format("  {:26} {}\n", "requests with an intent", intents[n].str());
            std::cout << fmt::format("  {:26} {}\n", "sentences without one", without_intent[n].str());
            const double share = 100.0 * intents[n].correct / std::max(1, intents[n].total());
            if (share < minimum) {
                std::cout << fmt::format("  FAIL: {:.1f} % correct is under the minimum {:.1f} %\n", share, minimum);
                pass = false;
            }
            if (intents[n].wrong + without_intent[n].wrong > 0) {
                std::cout << "  FAIL: a transfer or hang-up the caller did not ask for\n";
                pass = false;
            }
        }
        return pass ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "tl_understanding_measure: " << e.what() << "\n";
        return 1;
    }
}
