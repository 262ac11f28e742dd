#pragma once
// One PocketSphinx 0.8 decoder (Debian libpocketsphinx-dev, en-us acoustic model from
// pocketsphinx-en-us) searching a JSGF grammar: the decoding core shared by the embedded
// recogniser (SphinxRecognizer) and the test transcriber (voice/testing).
//
// The decoder's dictionary holds only the grammar's words (looked up once in the model's CMU
// dictionary with look_up()): loading the whole 134,000-word dictionary costs each decoder about
// 28 MB and 200 ms, a small one about 6 MB and 15 ms (measured on this model).
//
// Thread-safety: look_up() and create() are thread-safe. A decoder is used by one thread at a
// time; distinct decoders run concurrently.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"

namespace tl::voice {

struct Pronunciation {
    std::string word;    // as in the dictionary; alternates carry a suffix: "sales(2)"
    std::string phones;  // "S EY L Z"
};

struct DictionaryLookup {
    std::vector<Pronunciation> found;  // every pronunciation of every word found
    std::vector<std::string> missing;  // words not in the dictionary, in the order asked
};

struct SphinxDecoderOptions {
    // Model directory holding en-us/en-us (acoustic model) and en-us/cmudict-en-us.dict. Empty:
    // the TL_POCKETSPHINX_MODELDIR environment variable, else the directory pkg-config reported
    // at build time.
    std::string model_dir;
    // PocketSphinx -wip: lower values insert fewer words. 0.65 is PocketSphinx's default.
    double word_insertion_penalty = 0.65;
};

// One word of a decoding: frames are 10 ms at the model's rate, counted from the start of the
// audio; `posterior` is its probability in the decoder's word lattice (0..1): how much of the
// lattice's probability mass passes through this word at this time rather than a competitor.
struct DecodedWord {
    std::string word;  // the dictionary word without its alternate suffix ("sales", not "sales(2)")
    int first_frame = 0;
    int last_frame = 0;
    double posterior = 0;
};

class SphinxDecoder {
public:
    // Pronunciations of lower-case `words` in the model's dictionary. kUnavailable when the
    // dictionary cannot be read (model not installed).
    static Result<DictionaryLookup> look_up(const std::vector<std::string>& words,
                                            const SphinxDecoderOptions& options);

    // A decoder knowing just `pronunciations`, searching the public rule of `jsgf`, whose words
    // must all be among them. kUnavailable when the model cannot be loaded, kInvalidRequest when
    // PocketSphinx rejects the grammar or a pronunciation.
    static Result<std::unique_ptr<SphinxDecoder>> create(
        const std::vector<Pronunciation>& pronunciations,
        const std::string& jsgf,
        const SphinxDecoderOptions& options);

    // A decoder with several named grammars (the first is searched unless decode_words() names
    // another): switching between them costs nothing per utterance.
    struct Grammar {
        std::string name;
        std::string jsgf;
    };
    static Result<std::unique_ptr<SphinxDecoder>> create(
        const std::vector<Pronunciation>& pronunciations,
        const std::vector<Grammar>& grammars,
        const SphinxDecoderOptions& options);

    ~SphinxDecoder();
    SphinxDecoder(const SphinxDecoder&) = delete;
    SphinxDecoder& operator=(const SphinxDecoder&) = delete;

    // Mono 16-bit audio at any rate (resampled to the model's 16 kHz), decoded as one utterance
    // with all of it in view. Returns the words recognised, separated by single spaces ("" when
    // nothing was). kInvalidRequest for empty audio or a rate that is not positive.
    Result<std::string> decode(std::span<const std::int16_t> audio, int sample_rate);

    // The same decoding, word by word with each word's lattice posterior. Silence and noise
    // fillers (<sil>, [NOISE], <s>) are left out.
    // `grammar`: the name of one given to create(); empty: the first. `synonyms`: words that
    // count as one for posteriors (word -> class name): "yes" and "yeah" do not compete, so the
    // posterior of either is that of saying yes at all. Other words are their own class.
    using Synonyms = std::unordered_map<std::string, std::string>;
    // `log_score`: set to the best path's score, in natural-log units of probability, to
    // compare how well two grammars explain the same audio.
    Result<std::vector<DecodedWord>> decode_words(std::span<const std::int16_t> audio,
                                                  int sample_rate,
                                                  const std::string& grammar = {},
                                                  const Synonyms* synonyms = nullptr,
                                                  double* log_score = nullptr);

private:
    struct Impl;
    explicit SphinxDecoder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The words joined by single spaces ("i want sales").
std::string words_text(const std::vector<DecodedWord>& words);

// Where the model is looked for (see SphinxDecoderOptions::model_dir).
std::string default_sphinx_model_dir();

}  // namespace tl::voice
