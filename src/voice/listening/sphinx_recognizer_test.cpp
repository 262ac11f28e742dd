// The embedded recogniser for real: speech synthesised by espeak-ng (the server's own TTS) and by
// flite's voices, through the VAD and turn detector as a call would hear it, transcribed by
// PocketSphinx with a grammar of the assistant's keywords. Only what measured reliable is asserted
// (docs/listening.md has the figures; RecognitionFigures, disabled by default, prints them).

#include "voice/listening/sphinx_recognizer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "voice/listening/listening_test_audio.hpp"
#include "voice/listening/turn_detector.hpp"
#include "voice/testing/sphinx_transcriber.hpp"

namespace tl::voice {
namespace {

using testing::contains_word;

const std::vector<std::string> kKeywords = {"sales", "support", "billing", "human", "goodbye"};

std::shared_ptr<SphinxRecognizer> make_recognizer(std::vector<std::string> vocabulary = kKeywords,
                                                  std::size_t decoders = 1) {
    auto recognizer =
        SphinxRecognizer::create({.vocabulary = std::move(vocabulary), .decoders = decoders});
    if (!recognizer) {
        ADD_FAILURE() << recognizer.error().message;
        return nullptr;
    }
    return *recognizer;
}

std::vector<std::string> keywords_in(const std::string& text) {
    std::vector<std::string> found;
    for (const auto& k : kKeywords) {
        if (contains_word(text, k)) {
            found.push_back(k);
        }
    }
    return found;
}

media::Pcm with_silence(const media::Pcm& speech) {
    const media::Pcm pad = test::silence(300);
    return test::concat({&pad, &speech, &pad});
}

// ---- The grammar --------------------------------------------------------------------------

TEST(SphinxRecognizer, PhraseWordsNormalisesTheVocabulary) {
    struct Case {
        const char* phrase;
        std::vector<std::string> words;
    };
    const Case cases[] = {
        {"Support", {"support"}},
        {"  Talk to a HUMAN, please! ", {"talk", "to", "a", "human", "please"}},
        {"don't", {"don't"}},
        {"'quoted'", {"quoted"}},
        {"press 1", {"press", "1"}},
        {"sales-team", {"sales", "team"}},
        {"", {}},
        {"!!!", {}},
        {"caf\xC3\xA9", {"caf"}},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(phrase_words(c.phrase), c.words) << c.phrase;
    }
}

TEST(SphinxRecognizer, GrammarHoldsTheUsableVocabularyAndListsTheRest) {
    auto recognizer = make_recognizer(
        {"Support", "talk to a human", "support", "Zorgverzekeraar", "press 1", "public", ""});
    ASSERT_TRUE(recognizer);
    EXPECT_EQ(recognizer->keywords(),
              (std::vector<std::string>{"support", "talk to a human", "public"}));
    EXPECT_EQ(recognizer->skipped(), (std::vector<std::string>{"Zorgverzekeraar", "press 1"}));
    const std::string& grammar = recognizer->grammar();
    EXPECT_NE(grammar.find("<keyword> = support | talk to a human | public;"), std::string::npos)
        << grammar;
    EXPECT_EQ(recognizer->name(), "pocketsphinx");
}

TEST(SphinxRecognizer, EveryFillerIsInTheDictionary) {
    std::vector<std::string> fillers(sphinx_filler_words().begin(), sphinx_filler_words().end());
    auto lookup = SphinxDecoder::look_up(fillers, {});
    ASSERT_TRUE(lookup.has_value()) << lookup.error().message;
    EXPECT_TRUE(lookup->missing.empty()) << lookup->missing.front();
}

TEST(SphinxRecognizer, WorksWithNoKeywords) {
    auto recognizer = make_recognizer({});
    ASSERT_TRUE(recognizer);
    auto text = recognizer->recognize(with_silence(test::espeak("thank you")));
    ASSERT_TRUE(text.has_value()) << text.error().message;
    EXPECT_TRUE(contains_word(*text, "thank") || contains_word(*text, "you")) << *text;
}

TEST(SphinxRecognizer, MissingModelIsReported) {
    SphinxRecognizerConfig config{.vocabulary = kKeywords};
    config.decoder.model_dir = "/nonexistent";
    auto recognizer = SphinxRecognizer::create(config);
    ASSERT_FALSE(recognizer.has_value());
    EXPECT_EQ(recognizer.error().code, Errc::kUnavailable);
    EXPECT_NE(recognizer.error().message.find("pocketsphinx-en-us"), std::string::npos);
}

// ---- Recognition --------------------------------------------------------------------------

TEST(SphinxRecognizer, HearsGoodbyeFromEspeak) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    for (const char* phrase : {"goodbye", "okay thank you goodbye"}) {
        auto text = recognizer->recognize(with_silence(test::espeak(phrase)));
        ASSERT_TRUE(text.has_value()) << text.error().message;
        EXPECT_EQ(keywords_in(*text), std::vector<std::string>{"goodbye"})
            << phrase << " -> " << *text;
    }
}

TEST(SphinxRecognizer, HearsHumanFromEspeak) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    auto text = recognizer->recognize(with_silence(test::espeak("can I speak to a human")));
    ASSERT_TRUE(text.has_value()) << text.error().message;
    EXPECT_EQ(keywords_in(*text), std::vector<std::string>{"human"}) << *text;
}

TEST(SphinxRecognizer, HearsSupportFromFliteVoices) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    // slt is left out: measured, "support" from it is heard as "put".
    for (const char* voice : {"kal", "kal16", "awb", "rms"}) {
        auto speech = test::flite(voice, "I want to talk to support");
        ASSERT_TRUE(speech.has_value()) << speech.error().message;
        auto text = recognizer->recognize(with_silence(test::through_ulaw(*speech)));
        ASSERT_TRUE(text.has_value()) << text.error().message;
        EXPECT_EQ(keywords_in(*text), std::vector<std::string>{"support"})
            << voice << " -> " << *text;
    }
}

TEST(SphinxRecognizer, SentencesWithoutKeywordsGiveNone) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    for (const char* phrase : {"hello", "what time is it", "my name is John"}) {
        auto text = recognizer->recognize(with_silence(test::espeak(phrase)));
        ASSERT_TRUE(text.has_value()) << text.error().message;
        EXPECT_TRUE(keywords_in(*text).empty()) << phrase << " -> " << *text;
    }
}

TEST(SphinxRecognizer, SilenceNoiseAndTonesGiveNoKeyword) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    const std::pair<const char*, media::Pcm> cases[] = {
        {"silence", test::silence(2000)},
        {"noise", test::white_noise(2000, -40, 3)},
        {"tone", test::tone(1000, 2000, -20)},
    };
    for (const auto& [name, audio] : cases) {
        auto text = recognizer->recognize(audio);
        ASSERT_TRUE(text.has_value()) << text.error().message;
        EXPECT_TRUE(keywords_in(*text).empty()) << name << " -> " << *text;
    }
}

TEST(SphinxRecognizer, RefusesEmptyAndOverlongAudio) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    auto empty = recognizer->recognize({});
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, Errc::kInvalidRequest);
    const media::Pcm long_audio(SphinxRecognizer::kMaxSamples + 1, 0);
    auto too_long = recognizer->recognize(long_audio);
    ASSERT_FALSE(too_long.has_value());
    EXPECT_EQ(too_long.error().code, Errc::kInvalidRequest);
}

// ---- The whole listening path -------------------------------------------------------------

// Caller audio as a call leg delivers it (mu-law, low line noise), pushed through the turn
// detector in 20 ms packets; every finished turn is transcribed.
std::vector<std::string> listen(SphinxRecognizer& recognizer, const media::Pcm& speech) {
    const media::Pcm pad = test::silence(1000);
    media::Pcm audio = test::concat({&pad, &speech, &pad});
    audio = test::through_ulaw(
        test::mix(audio, test::white_noise(static_cast<int>(audio.size() / 8), -55, 5)));
    std::vector<std::string> heard;
    TurnDetector detector({}, {}, [&](const TurnEvent& e) {
        if (e.kind == TurnEventKind::kEndOfTurn) {
            auto text = recognizer.recognize(*e.utterance.audio);
            heard.push_back(text ? *text : "error: " + text.error().message);
        }
    });
    for (std::size_t i = 0; i + kFrameSamples <= audio.size(); i += kFrameSamples) {
        detector.push(std::span<const std::int16_t>(audio).subspan(i, kFrameSamples));
    }
    return heard;
}

TEST(Listening, CallerSpeechIsSegmentedAndRecognised) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    const auto goodbye = listen(*recognizer, test::espeak("goodbye"));
    ASSERT_EQ(goodbye.size(), 1U);
    EXPECT_EQ(keywords_in(goodbye[0]), std::vector<std::string>{"goodbye"}) << goodbye[0];

    auto speech = test::flite("kal", "I want to talk to support");
    ASSERT_TRUE(speech.has_value()) << speech.error().message;
    const auto support = listen(*recognizer, *speech);
    ASSERT_EQ(support.size(), 1U);
    EXPECT_EQ(keywords_in(support[0]), std::vector<std::string>{"support"}) << support[0];
}

TEST(Listening, HearsTheKeywordInEspeakPhrases) {
    // Each measured 20 of 20 through this path (espeak-ng varies from run to run). Not here,
    // because they are not reliable: "I want to talk to sales" (17 of 20) and "sales" alone
    // (11 of 20).
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    const std::pair<const char*, const char*> cases[] = {
        {"I want to talk to support", "support"},
        {"I want to talk to sales please", "sales"},
        {"sales please", "sales"},
        {"billing please", "billing"},
        {"can I speak to a human", "human"},
        {"goodbye", "goodbye"},
    };
    for (const auto& [phrase, keyword] : cases) {
        const auto heard = listen(*recognizer, test::espeak(phrase));
        ASSERT_EQ(heard.size(), 1U) << phrase;
        EXPECT_EQ(keywords_in(heard[0]), std::vector<std::string>{keyword})
            << phrase << " -> " << heard[0];
    }
}

TEST(Listening, TwoTurnsGiveTwoTranscripts) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    auto first = test::flite("awb", "I want to talk to support");
    ASSERT_TRUE(first.has_value()) << first.error().message;
    const media::Pcm gap = test::silence(1500);
    const media::Pcm second = test::espeak("goodbye");
    const auto heard = listen(*recognizer, test::concat({&*first, &gap, &second}));
    ASSERT_EQ(heard.size(), 2U);
    EXPECT_EQ(keywords_in(heard[0]), std::vector<std::string>{"support"}) << heard[0];
    EXPECT_EQ(keywords_in(heard[1]), std::vector<std::string>{"goodbye"}) << heard[1];
}

// ---- SpeechToText: the asynchronous interface ---------------------------------------------

struct Outcome {
    std::promise<Result<std::string>> promise;
    std::thread::id thread;
};

TEST(SphinxRecognizer, TranscribeRunsOnWorkersAndKeepsEachResultWithItsRequest) {
    auto recognizer = make_recognizer(kKeywords, 2);
    ASSERT_TRUE(recognizer);
    const auto goodbye = std::make_shared<const media::Pcm>(with_silence(test::espeak("goodbye")));
    const auto human =
        std::make_shared<const media::Pcm>(with_silence(test::espeak("can I speak to a human")));
    constexpr int kRequests = 6;
    std::vector<std::promise<std::pair<Result<std::string>, std::thread::id>>> promises(kRequests);
    std::vector<std::shared_ptr<PendingTranscription>> pending;
    for (int i = 0; i < kRequests; ++i) {
        pending.push_back(recognizer->transcribe(
            {i % 2 == 0 ? goodbye : human, "en"}, [&promises, i](Result<std::string> text) {
                promises[static_cast<std::size_t>(i)].set_value(
                    {std::move(text), std::this_thread::get_id()});
            }));
    }
    for (int i = 0; i < kRequests; ++i) {
        auto [text, thread] = promises[static_cast<std::size_t>(i)].get_future().get();
        ASSERT_TRUE(text.has_value()) << text.error().message;
        EXPECT_NE(thread, std::this_thread::get_id());
        EXPECT_EQ(keywords_in(*text), std::vector<std::string>{i % 2 == 0 ? "goodbye" : "human"})
            << *text;
    }
}

TEST(SphinxRecognizer, TranscribeRefusesBadRequestsThroughDone) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    const auto audio = std::make_shared<const media::Pcm>(test::espeak("goodbye"));
    struct Case {
        const char* name;
        TranscriptionRequest request;
    };
    const Case cases[] = {
        {"no audio", {nullptr, "en"}},
        {"empty audio", {std::make_shared<const media::Pcm>(), "en"}},
        {"Dutch", {audio, "nl"}},
        {"too long",
         {std::make_shared<const media::Pcm>(SphinxRecognizer::kMaxSamples + 1, 0), "en"}},
    };
    for (const auto& c : cases) {
        // Refusals too are delivered on a worker, never from inside transcribe().
        std::promise<std::pair<Result<std::string>, std::thread::id>> done;
        recognizer->transcribe(c.request, [&](Result<std::string> text) {
            done.set_value({std::move(text), std::this_thread::get_id()});
        });
        auto [text, thread] = done.get_future().get();
        EXPECT_NE(thread, std::this_thread::get_id()) << c.name;
        ASSERT_FALSE(text.has_value()) << c.name;
        EXPECT_EQ(text.error().code, Errc::kInvalidRequest) << c.name;
    }
    for (const char* language : {"", "multi", "en", "en-GB", "EN_us"}) {
        std::promise<Result<std::string>> done;
        recognizer->transcribe({audio, language},
                               [&](Result<std::string> text) { done.set_value(std::move(text)); });
        EXPECT_TRUE(done.get_future().get().has_value()) << language;
    }
}

TEST(SphinxRecognizer, CancelledTranscriptionsNeverComplete) {
    auto recognizer = make_recognizer(kKeywords, 1);
    ASSERT_TRUE(recognizer);
    const auto audio = std::make_shared<const media::Pcm>(with_silence(test::espeak("goodbye")));
    // The first request occupies the only worker; the second is cancelled while it waits.
    std::promise<void> first_done;
    recognizer->transcribe({audio, "en"}, [&](Result<std::string>) { first_done.set_value(); });
    std::atomic<bool> second_ran{false};
    auto second =
        recognizer->transcribe({audio, "en"}, [&](Result<std::string>) { second_ran = true; });
    second->cancel();
    second->cancel();  // idempotent
    std::promise<void> third_done;
    recognizer->transcribe({audio, "en"}, [&](Result<std::string>) { third_done.set_value(); });
    first_done.get_future().get();
    third_done.get_future().get();  // the queue is in order: the second was skipped by now
    EXPECT_FALSE(second_ran);
}

TEST(SphinxRecognizer, ShutdownFailsQueuedWorkAndMayHappenFromACallback) {
    const auto audio = std::make_shared<const media::Pcm>(with_silence(test::espeak("goodbye")));
    std::vector<std::promise<Result<std::string>>> results(4);
    {
        auto recognizer = make_recognizer(kKeywords, 1);
        ASSERT_TRUE(recognizer);
        for (auto& result : results) {
            recognizer->transcribe({audio, "en"}, [&result](Result<std::string> text) {
                result.set_value(std::move(text));
            });
        }
    }  // destroyed while the worker holds the first request and three wait
    int unavailable = 0;
    for (auto& result : results) {
        auto text = result.get_future().get();  // every request completes
        unavailable += !text && text.error().code == Errc::kUnavailable ? 1 : 0;
    }
    EXPECT_GE(unavailable, 2);

    // The last reference dropped inside `done`, on the recogniser's own worker.
    auto recognizer = make_recognizer(kKeywords, 1);
    ASSERT_TRUE(recognizer);
    std::promise<void> main_released;
    std::shared_future<void> main_released_future = main_released.get_future().share();
    std::promise<void> released;
    recognizer->transcribe({audio, "en"}, [&, keep = recognizer](Result<std::string>) mutable {
        main_released_future.wait();
        keep.reset();  // the last reference: the destructor runs here, on the worker
        released.set_value();
    });
    recognizer.reset();
    main_released.set_value();
    EXPECT_EQ(released.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

// ---- Measurement (not a test): prints the figures docs/listening.md reports ---------------

TEST(Listening, DISABLED_RecognitionFigures) {
    const std::vector<std::pair<std::string, std::string>> phrases = {
        {"goodbye", "goodbye"},
        {"okay thank you goodbye", "goodbye"},
        {"goodbye then", "goodbye"},
        {"support", "support"},
        {"I want to talk to support", "support"},
        {"put me through to support please", "support"},
        {"sales", "sales"},
        {"I want to talk to sales please", "sales"},
        {"sales please", "sales"},
        {"billing please", "billing"},
        {"I have a question about billing", "billing"},
        {"can I speak to a human", "human"},
        {"human please", "human"},
        {"hello", ""},
        {"what time is it", ""},
        {"yes", ""},
        {"no thank you", ""},
        {"I have a question", ""},
        {"my name is John", ""},
    };
    const std::vector<std::string> voices = {"espeak", "kal", "kal16", "awb", "rms", "slt"};
    struct Sample {
        std::string phrase;
        std::string keyword;
        std::string voice;
        media::Pcm speech;
    };
    std::vector<Sample> samples;
    for (const auto& [phrase, keyword] : phrases) {
        for (const auto& voice : voices) {
            // espeak-ng varies from run to run (random pitch flutter): two takes.
            for (int take = 0; take < (voice == "espeak" ? 2 : 1); ++take) {
                media::Pcm speech;
                if (voice == "espeak") {
                    speech = test::espeak(phrase);
                } else {
                    auto pcm = test::flite(voice, phrase);
                    ASSERT_TRUE(pcm.has_value()) << pcm.error().message;
                    speech = std::move(*pcm);
                }
                samples.push_back({phrase, keyword, voice, std::move(speech)});
            }
        }
    }
    for (double wip : {0.65, 0.01}) {
        SphinxRecognizerConfig config{.vocabulary = kKeywords, .decoders = 1};
        config.decoder.word_insertion_penalty = wip;
        auto recognizer = SphinxRecognizer::create(config);
        ASSERT_TRUE(recognizer.has_value()) << recognizer.error().message;
        std::map<std::string, std::pair<int, int>> by_voice;
        std::map<std::string, std::pair<int, int>> by_keyword;
        int false_positives = 0;
        int negatives = 0;
        int wrong_turns = 0;
        for (const auto& sample : samples) {
            const auto heard = listen(**recognizer, sample.speech);
            wrong_turns += heard.size() == 1 ? 0 : 1;
            std::string text;
            for (const auto& h : heard) {
                text += (text.empty() ? "" : " | ") + h;
            }
            const auto found = keywords_in(text);
            bool ok = false;
            if (sample.keyword.empty()) {
                ++negatives;
                ok = found.empty();
                false_positives += ok ? 0 : 1;
            } else {
                ok = found == std::vector<std::string>{sample.keyword};
                auto& v = by_voice[sample.voice];
                auto& k = by_keyword[sample.keyword];
                ++v.second;
                ++k.second;
                v.first += ok ? 1 : 0;
                k.first += ok ? 1 : 0;
            }
            std::printf("wip %.2f %-34s %-6s %s %zu turn(s): %s\n", wip, sample.phrase.c_str(),
                        sample.voice.c_str(), ok ? "ok " : "BAD", heard.size(), text.c_str());
        }
        int hits = 0;
        int total = 0;
        std::printf("== word insertion penalty %.2f\n", wip);
        for (const auto& [voice, h] : by_voice) {
            std::printf("voice %-7s %d/%d\n", voice.c_str(), h.first, h.second);
            hits += h.first;
            total += h.second;
        }
        for (const auto& [keyword, h] : by_keyword) {
            std::printf("keyword %-8s %d/%d\n", keyword.c_str(), h.first, h.second);
        }
        std::printf("keyword found (and no other): %d/%d\n", hits, total);
        std::printf("false keywords in sentences without one: %d/%d\n", false_positives, negatives);
        std::printf("utterances not segmented as exactly one turn: %d/%zu\n", wrong_turns,
                    samples.size());
    }
}

}  // namespace
}  // namespace tl::voice

namespace tl::voice {
namespace {

// The whole listening path, then listen(): what the conversation receives.
Heard hear_through_call(SphinxRecognizer& recognizer, const media::Pcm& speech, Expecting expecting) {
    const media::Pcm pad = test::silence(1000);
    media::Pcm audio = test::concat({&pad, &speech, &pad});
    audio = test::through_ulaw(
        test::mix(audio, test::white_noise(static_cast<int>(audio.size() / 8), -55, 5)));
    std::shared_ptr<const media::Pcm> turn;
    TurnDetector detector({}, {}, [&](const TurnEvent& e) {
        if (e.kind == TurnEventKind::kEndOfTurn && !turn) turn = e.utterance.audio;
    });
    for (std::size_t i = 0; i + kFrameSamples <= audio.size(); i += kFrameSamples) {
        detector.push(std::span<const std::int16_t>(audio).subspan(i, kFrameSamples));
    }
    EXPECT_TRUE(turn);
    if (!turn) return {};
    std::promise<Result<Heard>> promise;
    auto future = promise.get_future();
    recognizer.listen({turn, "en", expecting},
                      [&promise](Result<Heard> heard) { promise.set_value(std::move(heard)); });
    auto heard = future.get();
    EXPECT_TRUE(heard.has_value());
    return heard ? *heard : Heard{};
}

TEST(Listening, AKeywordComesWithItsConfidence) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    for (const char* phrase : {"goodbye", "I want to talk to support", "can I speak to a human"}) {
        const Heard heard = hear_through_call(*recognizer, test::espeak(phrase), Expecting::kRequest);
        EXPECT_TRUE(heard.understood) << phrase << ": " << heard.text;
        ASSERT_TRUE(heard.confidence) << phrase;
        EXPECT_GE(*heard.confidence, 0.1) << phrase << ": " << heard.text;
        EXPECT_LE(*heard.confidence, 1.0);
    }
    // No keyword in it: not understood, and said so with no confidence in anything.
    const Heard none = hear_through_call(*recognizer, test::espeak("what time is it"), Expecting::kRequest);
    EXPECT_FALSE(none.understood) << none.text;
    EXPECT_EQ(none.confidence, 0.0);
}

TEST(Listening, YesAndNoAreToldApartByTheirOwnGrammars) {
    auto recognizer = make_recognizer();
    ASSERT_TRUE(recognizer);
    // An answer is taken only when one side explains it far better (0.9): never the wrong side,
    // sometimes neither (measured: flite kal's "no" is not sure enough, the dialog asks again).
    int understood = 0;
    for (const char* voice : {"kal", "kal16", "awb", "rms", "slt"}) {
        for (const char* said : {"yes", "no"}) {
            auto speech = test::flite(voice, said);
            ASSERT_TRUE(speech) << speech.error().message;
            const Heard heard = hear_through_call(*recognizer, *speech, Expecting::kYesOrNo);
            ASSERT_TRUE(heard.confidence);
            if (!heard.understood) {
                EXPECT_EQ(heard.text, "") << voice << " " << said;
                continue;
            }
            ++understood;
            const bool yes = heard.text.find("ye") != std::string::npos;
            EXPECT_EQ(yes, std::string(said) == "yes") << voice << " " << said << ": " << heard.text;
        }
    }
    EXPECT_GE(understood, 5) << "of 10 answers (measured: 6)";
}

}  // namespace
}  // namespace tl::voice
namespace tl::voice {
namespace {

TEST(Listening, AnUtteranceFromItsFirstSampleIsHeard) {
    // A caller talking from the first packet (over the greeting) gives a turn with no quiet
    // before it; decoded as it was, "I want to talk to a person" was "i'd want person" (and
    // "person" alone with digital silence around it).
    auto recognizer = make_recognizer({"person", "agent", "human", "sales", "goodbye"});
    ASSERT_TRUE(recognizer);
    const auto text = recognizer->recognize(test::espeak("I want to talk to a person"));
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_TRUE(contains_word(*text, "person")) << *text;
    EXPECT_TRUE(contains_word(*text, "want")) << *text;
    EXPECT_GE(std::count(text->begin(), text->end(), ' '), 3) << "the words between: " << *text;
}

}  // namespace
}  // namespace tl::voice
