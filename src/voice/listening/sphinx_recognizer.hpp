#pragma once
// The embedded speech-to-text provider (DESIGN.md "Voice providers", docs/listening.md):
// PocketSphinx 0.8 with the en-us model, listening for the assistant's own vocabulary.
//
// PocketSphinx's generic language model does poorly on 8 kHz telephone speech, so the recogniser
// searches a JSGF grammar built from the assistant's keywords and phrases (scripted rule words,
// transfer destination names) with common filler words around them: any sequence of keywords and
// fillers. What it returns is the recognised word sequence, fillers included ("i want to talk to
// support"), for the language model to read. Phrases with a word outside PocketSphinx's
// dictionary (names, digits) cannot be in the grammar: they are left out and listed by skipped().
//
// Decoders are expensive (about 6 MB and 15 ms to load each; a 2 s utterance takes 50-150 ms to
// decode), so a recogniser owns a small pool of them and as many worker threads. recognize()
// blocks (a worker's call, or a test's); transcribe() (the SpeechToText interface) queues the work
// for the recogniser's own workers and never blocks.
//
// Thread-safety: every method is thread-safe. The destructor must not run while recognize() is
// blocked in another thread; it may run on one of the recogniser's workers (from a `done`).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "voice/listening/sphinx_decoder.hpp"
#include "voice/providers/speech_to_text.hpp"

namespace tl::voice {

struct SphinxRecognizerConfig {
    // Keywords and phrases the assistant acts on, any case ("Support", "talk to a human").
    std::vector<std::string> vocabulary;
    std::size_t decoders = 2;    // pool size, and worker threads for transcribe()
    std::size_t max_queue = 32;  // transcribe() requests waiting beyond this fail (kUnavailable)
    // Word insertion penalty 0.01 rather than PocketSphinx's 0.65: measured through the whole
    // listening path, the keyword was found in 76 of 91 synthetic utterances against 71 of 91
    // (docs/listening.md).
    SphinxDecoderOptions decoder{.model_dir = {}, .word_insertion_penalty = 0.01};
};

class SphinxRecognizer final : public SpeechToText {
public:
    // Utterances longer than this are refused (kInvalidRequest).
    static constexpr std::size_t kMaxSamples = 60 * 8000;

    // Loads the pool. kUnavailable when the model is not installed.
    static Result<std::shared_ptr<SphinxRecognizer>> create(SphinxRecognizerConfig config);
    ~SphinxRecognizer() override;
    SphinxRecognizer(const SphinxRecognizer&) = delete;
    SphinxRecognizer& operator=(const SphinxRecognizer&) = delete;

    // One utterance of 8 kHz mono audio to text; blocks until a decoder is free and has decoded
    // it. kInvalidRequest for empty or over-long audio.
    Result<std::string> recognize(std::span<const std::int16_t> audio);

    // SpeechToText: runs recognize() on a worker. `language` must be English ("en", "en-GB", ...)
    // or unset ("", "multi"); anything else fails with kInvalidRequest. Done runs on a worker.
    std::shared_ptr<PendingTranscription> transcribe(TranscriptionRequest request,
                                                     Done done) override;
    // With a confidence: the lowest lattice posterior of the keywords heard; keywords under 0.1
    // are left out of the text (a closed grammar always hears *some* keyword: docs/listening.md).
    // Expecting::kYesOrNo searches a grammar of answers ("yes", "that's right", "no").
    std::shared_ptr<PendingTranscription> listen(TranscriptionRequest request,
                                                 HeardDone done) override;
    std::string name() const override;

    // The keyword phrases in the grammar, normalised ("talk to a human"), and the vocabulary
    // entries left out, as given.
    const std::vector<std::string>& keywords() const;
    const std::vector<std::string>& skipped() const;
    const std::string& grammar() const;  // the JSGF text searched

private:
    struct Impl;
    explicit SphinxRecognizer(std::shared_ptr<Impl> impl);
    // Shared with the workers, which may outlive a destructor that ran on one of them.
    std::shared_ptr<Impl> impl_;
};

// A phrase as the grammar uses it: lower-case words of letters, digits and apostrophes.
std::vector<std::string> phrase_words(std::string_view phrase);

// The filler words put around the keywords: short requests callers make ("i want to talk to",
// "can you put me through to", "thank you").
std::span<const std::string_view> sphinx_filler_words();

}  // namespace tl::voice
