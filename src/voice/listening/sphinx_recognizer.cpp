#include "voice/listening/sphinx_recognizer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace tl::voice {
namespace {

constexpr int kRate = 8000;

// Common words of short requests to put around the keywords. Measured (docs/listening.md): very
// short function words ("a", "the", "it", "uh") are left out, as they match fragments of anything,
// keywords included; so are "today" and "okay", which took espeak-ng's "sales" ("today you",
// "okay you would"). "you" stays: without it "no thank you" was heard as "human".
constexpr std::array<std::string_view, 38> kFillers = {
    "i",      "i'm",  "i'd",  "want",  "to",      "talk",  "speak",   "with",     "please", "can",
    "could",  "you",  "me",   "my",    "need",    "hello", "hi",      "yes",      "no",     "thank",
    "thanks", "is",   "like", "would", "get",     "put",   "through", "question", "about",  "have",
    "name",   "what", "time", "help",  "someone", "call",  "this",    "just",
};

// Answers to "Sales, is that right?": searched with their own small grammar, so an answer is
// not taken for a request. Words around them are allowed ("yes please", "no that's wrong").
constexpr std::array<std::string_view, 7> kYesWords = {"yes",   "yeah", "yep", "correct",
                                                       "right", "sure", "okay"};
constexpr std::array<std::string_view, 4> kNoWords = {"no", "nope", "wrong", "not"};
constexpr std::array<std::string_view, 10> kAnswerFillers = {
    "that's", "that", "is", "it", "please", "thank", "thanks", "you", "i", "said"};
constexpr const char* kRequestGrammar = "request";
constexpr const char* kYesGrammar = "yes";
constexpr const char* kNoGrammar = "no";

// A keyword heard with a lower lattice posterior than this is dropped from the text: the closed
// grammar forced it rather than heard it. Low, because posteriors of right keywords are often
// low too (espeak-ng's "billing please": 0.15, "I want to talk to support": 0.48), and every
// action taken on a keyword is confirmed by the caller anyway (docs/listening.md).
constexpr double kKeepPosterior = 0.1;

// Answers: the log-likelihood ratio of "yes" against "no" is scaled by PocketSphinx's acoustic
// scale (1/20) before it becomes a probability, and an answer is taken at 0.9 or more.
constexpr double kAnswerScoreScale = 1.0 / 20;
constexpr double kSureAnswer = 0.9;

// "yes" (or "no") with the answer fillers around it: the answer is whichever of the two
// grammars explains the utterance better.
std::string answer_grammar(bool yes) {
    auto alternatives = [](auto words) {
        std::string out;
        for (auto w : words) out += (out.empty() ? "" : " | ") + std::string(w);
        return out;
    };
    return std::string("#JSGF V1.0;\ngrammar answer;\npublic <answer> = <around>* <reply> "
                       "<around>*;\n<reply> = ") +
           (yes ? alternatives(kYesWords) : alternatives(kNoWords)) + ";\n<around> = " +
           alternatives(kAnswerFillers) + ";\n";
}

// Quiet noise around and under each utterance before decoding. PocketSphinx estimates its noise floor and
// normalises the cepstrum from the start of the audio: an utterance that starts with the first
// syllable (a caller talking from the first packet, over the greeting) decoded as "i'd want
// person" for "I want to talk to a person", and with digital silence around it as "person";
// with 300 ms of noise at -60 dBFS on each side, as "i want put talk put person" (measured with
// espeak-ng). Deterministic: the same seed every time.
std::vector<std::int16_t> with_quiet_noise_around(std::span<const std::int16_t> audio) {
    constexpr std::size_t kPadSamples = 300 * kRate / 1000;
    constexpr double kAmplitude = 32767.0 * 0.001 * 1.7320508;  // -60 dBFS RMS, uniform
    std::vector<std::int16_t> out;
    out.reserve(audio.size() + 2 * kPadSamples);
    std::uint32_t state = 12345;
    auto noise = [&] {
        state = state * 1664525U + 1013904223U;
        return static_cast<std::int16_t>(kAmplitude * (static_cast<double>(state) / 4294967296.0 * 2 - 1));
    };
    for (std::size_t i = 0; i < kPadSamples; ++i) out.push_back(noise());
    for (const std::int16_t sample : audio) {
        // Over the speech too: digital silence between words troubles it as much.
        out.push_back(static_cast<std::int16_t>(std::clamp(sample + noise(), -32768, 32767)));
    }
    for (std::size_t i = 0; i < kPadSamples; ++i) out.push_back(noise());
    return out;
}

bool english(std::string_view language) {
    if (language.empty() || language == "multi") {
        return true;
    }
    auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); };
    return language.size() >= 2 && lower(language[0]) == 'e' && lower(language[1]) == 'n' &&
           (language.size() == 2 || language[2] == '-' || language[2] == '_');
}

// A JSGF token. Unquoted: PocketSphinx keeps quotes as part of the word, and reads "public" or
// "grammar" inside a rule as words (tested).
std::string token(const std::string& word) { return word; }

class Pending final : public PendingTranscription {
public:
    void cancel() override {
        int expected = kQueued;
        state_.compare_exchange_strong(expected, kCancelled);
    }
    bool cancelled() const { return state_.load() == kCancelled; }
    // Claims the right to run `done`; false once cancelled.
    bool begin_delivery() {
        int expected = kQueued;
        return state_.compare_exchange_strong(expected, kDelivering);
    }

private:
    static constexpr int kQueued = 0;
    static constexpr int kDelivering = 1;
    static constexpr int kCancelled = 2;
    std::atomic<int> state_{kQueued};
};

}  // namespace

struct SphinxRecognizer::Impl {
    struct Job {
        std::shared_ptr<Pending> pending;
        std::shared_ptr<const media::Pcm> audio;
        Expecting expecting = Expecting::kRequest;
        std::optional<Error> error;  // set: deliver this instead of recognising
        HeardDone done;
    };

    std::vector<std::string> keywords;
    std::set<std::string> evidence;  // words of keywords that carry meaning (not fillers)
    std::vector<std::string> skipped;
    std::string grammar;
    std::size_t max_queue = 0;

    std::mutex mutex;
    std::condition_variable decoder_freed;
    std::condition_variable work_ready;
    std::vector<std::unique_ptr<SphinxDecoder>> idle;  // decoders not in use
    std::deque<Job> queue;
    bool stopping = false;
    std::vector<std::thread> workers;

    Result<std::string> recognize(std::span<const std::int16_t> audio) {
        auto words = decode(audio, kRequestGrammar);
        if (!words) {
            return words.error();
        }
        return words_text(*words);
    }

    Result<Heard> hear(std::span<const std::int16_t> audio, Expecting expecting) {
        if (expecting == Expecting::kYesOrNo) {
            return hear_answer(audio);
        }
        auto words = decode(audio, kRequestGrammar);
        if (!words) {
            return words.error();
        }
        Heard heard;
        heard.understood = false;
        for (const auto& w : *words) {
            if (evidence.contains(w.word)) {
                if (w.posterior < kKeepPosterior) {
                    continue;  // a guess the grammar forced: not heard
                }
                heard.understood = true;
                heard.confidence = std::min(heard.confidence.value_or(1.0), w.posterior);
            }
            heard.text += (heard.text.empty() ? "" : " ") + w.word;
        }
        if (!heard.understood) {
            heard.confidence = 0.0;
        }
        return heard;
    }

    // A yes or a no: the utterance decoded once as a yes and once as a no; the better
    // explanation wins, by a likelihood ratio turned into a probability. A word lattice gives
    // no usable posterior here: with only answers to choose from, its paths through filler
    // words that never reach an answer take the probability mass.
    Result<Heard> hear_answer(std::span<const std::int16_t> audio) {
        double yes_score = 0;
        double no_score = 0;
        auto as_yes = decode(audio, kYesGrammar, &yes_score);
        if (!as_yes) {
            return as_yes.error();
        }
        auto as_no = decode(audio, kNoGrammar, &no_score);
        if (!as_no) {
            return as_no.error();
        }
        if (std::isinf(yes_score) && std::isinf(no_score)) {
            return Heard{"", 0.0, false};  // neither explains it: not an answer
        }
        const bool yes = yes_score >= no_score;
        const double ratio = std::isinf(yes_score) || std::isinf(no_score)
                                 ? 50.0
                                 : std::abs(yes_score - no_score) * kAnswerScoreScale;
        Heard heard;
        heard.confidence = 1.0 / (1.0 + std::exp(-ratio));
        heard.understood = *heard.confidence >= kSureAnswer;
        heard.text = words_text(yes ? *as_yes : *as_no);
        if (!heard.understood) {
            heard.text.clear();
        }
        return heard;
    }

    Result<std::vector<DecodedWord>> decode(std::span<const std::int16_t> audio,
                                            const std::string& grammar,
                                            double* log_score = nullptr) {
        if (audio.empty()) {
            return make_error(Errc::kInvalidRequest, "no audio to recognise", "audio");
        }
        if (audio.size() > kMaxSamples) {
            return make_error(Errc::kInvalidRequest, "utterance longer than 60 s", "audio");
        }
        std::unique_ptr<SphinxDecoder> decoder;
        {
            std::unique_lock lock(mutex);
            decoder_freed.wait(lock, [this] { return !idle.empty(); });
            decoder = std::move(idle.back());
            idle.pop_back();
        }
        Result<std::vector<DecodedWord>> text = make_error(Errc::kInternal, "PocketSphinx failed");
        try {
            text = decoder->decode_words(with_quiet_noise_around(audio), kRate, grammar, nullptr,
                                         log_score);
        } catch (const std::exception& e) {  // allocation failure while resampling
            text = make_error(Errc::kInternal, std::string("PocketSphinx failed: ") + e.what());
        }
        {
            std::lock_guard lock(mutex);
            idle.push_back(std::move(decoder));
        }
        decoder_freed.notify_one();
        return text;
    }

    static void deliver(Job& job, Result<Heard> result) {
        if (!job.pending->begin_delivery()) {
            return;  // cancelled
        }
        try {
            job.done(std::move(result));
        } catch (const std::exception& e) {
            // A throwing callback must not take the worker (and the process) down with it.
            spdlog::error("pocketsphinx: completion callback threw: {}", e.what());
        } catch (...) {
            spdlog::error("pocketsphinx: completion callback threw");
        }
    }

    void work() {
        std::unique_lock lock(mutex);
        for (;;) {
            work_ready.wait(lock, [this] { return stopping || !queue.empty(); });
            if (stopping) {
                return;  // the destructor fails whatever is still queued
            }
            Job job = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            if (job.error) {
                deliver(job, *job.error);
            } else if (!job.pending->cancelled()) {
                deliver(job, hear(*job.audio, job.expecting));
            }
            job = Job{};  // release the audio and callback outside the lock
            lock.lock();
        }
    }
};

SphinxRecognizer::SphinxRecognizer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::shared_ptr<SphinxRecognizer>> SphinxRecognizer::create(SphinxRecognizerConfig config) {
    // Keyword phrases, normalised and de-duplicated in the order given.
    std::vector<std::pair<std::string, std::vector<std::string>>> phrases;  // (given, words)
    std::vector<std::string> words;
    std::set<std::string> seen;
    for (const auto& given : config.vocabulary) {
        auto phrase = phrase_words(given);
        std::string joined;
        for (const auto& w : phrase) {
            joined += (joined.empty() ? "" : " ") + w;
        }
        if (joined.empty() || !seen.insert(joined).second) {
            continue;
        }
        words.insert(words.end(), phrase.begin(), phrase.end());
        phrases.emplace_back(given, std::move(phrase));
    }
    for (auto filler : kFillers) {
        words.emplace_back(filler);
    }
    for (auto w : kYesWords) words.emplace_back(w);
    for (auto w : kNoWords) words.emplace_back(w);
    for (auto w : kAnswerFillers) words.emplace_back(w);
    auto lookup = SphinxDecoder::look_up(words, config.decoder);
    if (!lookup) {
        return lookup.error();
    }
    const std::set<std::string> missing(lookup->missing.begin(), lookup->missing.end());

    auto impl = std::make_shared<Impl>();
    impl->max_queue = std::max<std::size_t>(config.max_queue, 1);
    std::set<std::string> used;  // words in the grammar
    std::set<std::string> single_keywords;
    std::string keyword_rule;
    for (auto& [given, phrase] : phrases) {
        if (std::any_of(phrase.begin(), phrase.end(),
                        [&](const std::string& w) { return missing.contains(w); })) {
            impl->skipped.push_back(given);
            continue;
        }
        std::string joined;
        std::string tokens;
        for (const auto& w : phrase) {
            joined += (joined.empty() ? "" : " ") + w;
            tokens += (tokens.empty() ? "" : " ") + token(w);
            used.insert(w);
        }
        if (phrase.size() == 1) {
            single_keywords.insert(phrase.front());
        }
        for (const auto& w : phrase) {
            const bool filler = std::find(kFillers.begin(), kFillers.end(), w) != kFillers.end();
            if (w.size() > 2 && (!filler || phrase.size() == 1)) {
                impl->evidence.insert(w);
            }
        }
        keyword_rule += (keyword_rule.empty() ? "" : " | ") + tokens;
        impl->keywords.push_back(std::move(joined));
    }
    std::string filler_rule;
    for (auto filler : kFillers) {
        const std::string word(filler);
        // A keyword is never also a filler: the grammar would hold it twice.
        if (missing.contains(word) || single_keywords.contains(word)) {
            continue;
        }
        filler_rule += (filler_rule.empty() ? "" : " | ") + token(word);
        used.insert(word);
    }
    std::string& grammar = impl->grammar;
    grammar = "#JSGF V1.0;\ngrammar trunkline;\n";
    grammar += keyword_rule.empty() ? "public <utterance> = <filler>+;\n"
                                    : "public <utterance> = (<keyword> | <filler>)+;\n"
                                      "<keyword> = " +
                                          keyword_rule + ";\n";
    grammar += "<filler> = " + filler_rule + ";\n";

    for (auto w : kYesWords) used.insert(std::string(w));
    for (auto w : kNoWords) used.insert(std::string(w));
    for (auto w : kAnswerFillers) used.insert(std::string(w));
    std::vector<Pronunciation> pronunciations;
    for (auto& p : lookup->found) {
        const std::string base = p.word.substr(0, p.word.find('('));
        if (used.contains(base)) {
            pronunciations.push_back(std::move(p));
        }
    }
    const std::size_t count = std::max<std::size_t>(config.decoders, 1);
    for (std::size_t i = 0; i < count; ++i) {
        auto decoder = SphinxDecoder::create(
            pronunciations,
            {{kRequestGrammar, grammar},
             {kYesGrammar, answer_grammar(true)},
             {kNoGrammar, answer_grammar(false)}},
            config.decoder);
        if (!decoder) {
            return decoder.error();
        }
        impl->idle.push_back(std::move(*decoder));
    }
    if (!impl->skipped.empty()) {
        std::string list;
        for (const auto& s : impl->skipped) {
            list += (list.empty() ? "'" : ", '") + s + "'";
        }
        spdlog::warn(
            "pocketsphinx: vocabulary entries with words outside its dictionary are not "
            "listened for: {}",
            list);
    }
    for (std::size_t i = 0; i < count; ++i) {
        impl->workers.emplace_back([impl = impl] { impl->work(); });
    }
    return std::shared_ptr<SphinxRecognizer>(new SphinxRecognizer(std::move(impl)));
}

SphinxRecognizer::~SphinxRecognizer() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->work_ready.notify_all();
    // A recognition already running finishes and is delivered; queued ones are not started.
    for (auto& worker : impl_->workers) {
        if (worker.get_id() == std::this_thread::get_id()) {
            worker.detach();  // destroyed from a `done`: this worker returns to its loop and exits
        } else {
            worker.join();
        }
    }
    std::deque<Impl::Job> left;
    {
        std::lock_guard lock(impl_->mutex);
        left.swap(impl_->queue);
    }
    for (auto& job : left) {
        Impl::deliver(
            job, job.error ? *job.error
                           : make_error(Errc::kUnavailable, "speech recogniser is shutting down"));
    }
}

Result<std::string> SphinxRecognizer::recognize(std::span<const std::int16_t> audio) {
    return impl_->recognize(audio);
}

std::shared_ptr<PendingTranscription> SphinxRecognizer::transcribe(TranscriptionRequest request,
                                                                   Done done) {
    return listen(std::move(request), [done = std::move(done)](Result<Heard> heard) {
        if (!heard) {
            done(heard.error());
            return;
        }
        done(std::move(heard->text));
    });
}

std::shared_ptr<PendingTranscription> SphinxRecognizer::listen(TranscriptionRequest request,
                                                               HeardDone done) {
    // A local reference: `done` may drop the last reference to this recogniser on a worker
    // before this call has returned.
    const std::shared_ptr<Impl> impl = impl_;
    auto pending = std::make_shared<Pending>();
    Impl::Job job{pending, std::move(request.audio), request.expecting, std::nullopt,
                  std::move(done)};
    if (!job.audio || job.audio->empty()) {
        job.error = make_error(Errc::kInvalidRequest, "no audio to recognise", "audio");
    } else if (job.audio->size() > kMaxSamples) {
        job.error = make_error(Errc::kInvalidRequest, "utterance longer than 60 s", "audio");
    } else if (!english(request.language)) {
        job.error = make_error(Errc::kInvalidRequest,
                               "the embedded recogniser (PocketSphinx en-us) understands English "
                               "only, not '" +
                                   request.language + "'",
                               "language");
    }
    {
        std::lock_guard lock(impl->mutex);
        std::size_t waiting = 0;
        for (const auto& queued : impl->queue) {
            waiting += queued.error ? 0 : 1;
        }
        if (!job.error && waiting >= impl->max_queue) {
            job.error = make_error(Errc::kUnavailable, "speech recogniser is overloaded");
        }
        // Error deliveries are queued too (they cost nothing), so `done` never runs in here.
        impl->queue.push_back(std::move(job));
    }
    impl->work_ready.notify_one();
    return pending;
}

std::string SphinxRecognizer::name() const { return "pocketsphinx"; }

const std::vector<std::string>& SphinxRecognizer::keywords() const { return impl_->keywords; }
const std::vector<std::string>& SphinxRecognizer::skipped() const { return impl_->skipped; }
const std::string& SphinxRecognizer::grammar() const { return impl_->grammar; }

std::vector<std::string> phrase_words(std::string_view phrase) {
    std::vector<std::string> words;
    std::string current;
    for (char c : phrase) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'') {
            current += c;
        } else if (!current.empty()) {
            words.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) {
        words.push_back(std::move(current));
    }
    // Apostrophes only inside a word ("don't"), not as quotes around it.
    for (auto& w : words) {
        const auto first = w.find_first_not_of('\'');
        const auto last = w.find_last_not_of('\'');
        w = first == std::string::npos ? std::string() : w.substr(first, last - first + 1);
    }
    std::erase_if(words, [](const std::string& w) { return w.empty(); });
    return words;
}

std::span<const std::string_view> sphinx_filler_words() { return kFillers; }

}  // namespace tl::voice
