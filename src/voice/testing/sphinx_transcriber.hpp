#pragma once
// Test-only speech recognition: what would a caller hear? Transcribes telephone audio with
// PocketSphinx 0.8 (Debian, en-us acoustic model) constrained to a vocabulary. The generic
// language model does poorly on synthetic 8 kHz speech (docs: DESIGN.md "Voice providers"), so the
// decoder searches a JSGF grammar "any sequence of these words": the words a test expects plus the
// distractors it passes, so finding an expected word means the audio sounded like it and not like
// the others.
//
// Thread-safety: one transcriber per thread; distinct transcribers may run concurrently.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tl::voice::testing {

class SphinxTranscriber {
public:
    // `vocabulary`: lower-case English words; those missing from the CMU dictionary are an error
    // (kInvalidRequest naming them) rather than silently dropped.
    static Result<std::unique_ptr<SphinxTranscriber>> create(std::vector<std::string> vocabulary);
    ~SphinxTranscriber();
    SphinxTranscriber(const SphinxTranscriber&) = delete;
    SphinxTranscriber& operator=(const SphinxTranscriber&) = delete;

    // Mono 16-bit audio at any rate (resampled to the model's 16 kHz); returns the recognised
    // words separated by single spaces ("" when nothing was recognised).
    Result<std::string> transcribe(std::span<const std::int16_t> audio, int sample_rate);

private:
    struct Impl;
    explicit SphinxTranscriber(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Whole-word, case-insensitive match in a transcript.
bool contains_word(std::string_view transcript, std::string_view word);

// Common short English words to add to a vocabulary as distractors.
std::vector<std::string> distractor_words();

}  // namespace tl::voice::testing
