#include "voice/testing/sphinx_transcriber.hpp"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include "media/resampler.hpp"

#ifndef TL_POCKETSPHINX_MODELDIR
#define TL_POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

namespace tl::voice::testing {
namespace {

constexpr int kModelRate = 16000;
constexpr const char* kSearchName = "vocabulary";

struct ConfigDeleter {
    void operator()(cmd_ln_t* config) const { cmd_ln_free_r(config); }
};
struct DecoderDeleter {
    void operator()(ps_decoder_t* decoder) const { ps_free(decoder); }
};
using ConfigPtr = std::unique_ptr<cmd_ln_t, ConfigDeleter>;
using DecoderPtr = std::unique_ptr<ps_decoder_t, DecoderDeleter>;

std::string model_dir() {
    if (const char* dir = std::getenv("TL_POCKETSPHINX_MODELDIR"); dir != nullptr && *dir) {
        return dir;
    }
    return TL_POCKETSPHINX_MODELDIR;
}

// A JSGF token we can write unquoted: lower-case letters and apostrophes ("don't").
bool plain_word(const std::string& word) {
    return !word.empty() && std::all_of(word.begin(), word.end(),
                                        [](char c) { return (c >= 'a' && c <= 'z') || c == '\''; });
}

}  // namespace

struct SphinxTranscriber::Impl {
    ConfigPtr config;
    DecoderPtr decoder;
};

SphinxTranscriber::SphinxTranscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SphinxTranscriber::~SphinxTranscriber() = default;

Result<std::unique_ptr<SphinxTranscriber>> SphinxTranscriber::create(
    std::vector<std::string> vocabulary) {
    static std::once_flag quiet;
    std::call_once(quiet, [] { err_set_logfp(nullptr); });  // PocketSphinx logs a page per init

    std::sort(vocabulary.begin(), vocabulary.end());
    vocabulary.erase(std::unique(vocabulary.begin(), vocabulary.end()), vocabulary.end());
    if (vocabulary.empty()) {
        return make_error(Errc::kInvalidRequest, "vocabulary is empty", "vocabulary");
    }
    for (const auto& word : vocabulary) {
        if (!plain_word(word)) {
            return make_error(Errc::kInvalidRequest,
                              "vocabulary word '" + word + "' is not a lower-case word",
                              "vocabulary");
        }
    }

    const std::string base = model_dir();
    const std::string hmm = base + "/en-us/en-us";
    const std::string dict = base + "/en-us/cmudict-en-us.dict";
    auto impl = std::make_unique<Impl>();
    impl->config.reset(cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-dict",
                                   dict.c_str(), "-samprate", "16000", "-logfn", "/dev/null",
                                   nullptr));
    if (!impl->config) {
        return make_error(Errc::kInternal, "PocketSphinx rejected its configuration");
    }
    impl->decoder.reset(ps_init(impl->config.get()));
    if (!impl->decoder) {
        return make_error(Errc::kInternal, "PocketSphinx failed to load the en-us model from " +
                                               base + " (Debian pocketsphinx-en-us)");
    }

    std::string missing;
    for (const auto& word : vocabulary) {
        char* phones = ps_lookup_word(impl->decoder.get(), word.c_str());
        if (phones == nullptr) {
            missing += (missing.empty() ? "" : ", ") + word;
        }
        std::free(phones);  // NOLINT(cppcoreguidelines-no-malloc): allocated by PocketSphinx
    }
    if (!missing.empty()) {
        return make_error(Errc::kInvalidRequest, "not in the PocketSphinx dictionary: " + missing,
                          "vocabulary");
    }

    // Any sequence of vocabulary words: no phrase structure, so the recogniser has to tell the
    // words apart by sound alone.
    std::string grammar =
        "#JSGF V1.0;\ngrammar vocabulary;\npublic <utterance> = <word>+;\n<word> = ";
    for (std::size_t i = 0; i < vocabulary.size(); ++i) {
        grammar += (i == 0 ? "" : " | ") + vocabulary[i];
    }
    grammar += ";\n";
    if (ps_set_jsgf_string(impl->decoder.get(), kSearchName, grammar.c_str()) != 0 ||
        ps_set_search(impl->decoder.get(), kSearchName) != 0) {
        return make_error(Errc::kInternal, "PocketSphinx rejected the vocabulary grammar");
    }
    return std::unique_ptr<SphinxTranscriber>(new SphinxTranscriber(std::move(impl)));
}

Result<std::string> SphinxTranscriber::transcribe(std::span<const std::int16_t> audio,
                                                  int sample_rate) {
    if (sample_rate <= 0) {
        return make_error(Errc::kInvalidRequest, "sample rate must be positive", "sample_rate");
    }
    std::vector<std::int16_t> wideband;
    std::span<const std::int16_t> input = audio;
    if (sample_rate != kModelRate) {
        wideband = media::resample(audio, sample_rate, kModelRate);
        input = wideband;
    }
    ps_decoder_t* decoder = impl_->decoder.get();
    if (ps_start_utt(decoder) < 0) {
        return make_error(Errc::kInternal, "PocketSphinx could not start an utterance");
    }
    // full_utt = TRUE: the whole recording is one utterance, decoded with all of it in view.
    if (ps_process_raw(decoder, input.data(), input.size(), FALSE, TRUE) < 0) {
        ps_end_utt(decoder);
        return make_error(Errc::kInternal, "PocketSphinx failed to process the audio");
    }
    if (ps_end_utt(decoder) < 0) {
        return make_error(Errc::kInternal, "PocketSphinx could not end the utterance");
    }
    std::int32_t score = 0;
    const char* hypothesis = ps_get_hyp(decoder, &score);
    return std::string(hypothesis != nullptr ? hypothesis : "");
}

bool contains_word(std::string_view transcript, std::string_view word) {
    auto lower = [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    };
    std::size_t i = 0;
    while (i < transcript.size()) {
        while (i < transcript.size() && transcript[i] == ' ') {
            ++i;
        }
        std::size_t end = transcript.find(' ', i);
        if (end == std::string_view::npos) {
            end = transcript.size();
        }
        std::string_view token = transcript.substr(i, end - i);
        if (!token.empty() && token.size() == word.size() &&
            std::equal(token.begin(), token.end(), word.begin(),
                       [&](char a, char b) { return lower(a) == lower(b); })) {
            return true;
        }
        i = end;
    }
    return false;
}

std::vector<std::string> distractor_words() {
    return {"hello", "goodbye", "sales", "billing", "human",  "please", "thank", "you",
            "yes",   "no",      "call",  "number",  "office", "today",  "help",  "account",
            "order", "time",    "money", "people",  "name",   "open",   "close", "menu"};
}

}  // namespace tl::voice::testing
