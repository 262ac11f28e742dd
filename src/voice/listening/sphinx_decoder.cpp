#include "voice/listening/sphinx_decoder.hpp"

#include <fmt/format.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "media/resampler.hpp"

#ifndef TL_POCKETSPHINX_MODELDIR
#define TL_POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

namespace tl::voice {
namespace {

constexpr int kModelRate = 16000;
constexpr const char* kSearchName = "grammar";

struct ConfigDeleter {
    void operator()(cmd_ln_t* config) const { cmd_ln_free_r(config); }
};
struct DecoderDeleter {
    void operator()(ps_decoder_t* decoder) const { ps_free(decoder); }
};
using ConfigPtr = std::unique_ptr<cmd_ln_t, ConfigDeleter>;
using DecoderPtr = std::unique_ptr<ps_decoder_t, DecoderDeleter>;

std::string model_dir(const SphinxDecoderOptions& options) {
    return options.model_dir.empty() ? default_sphinx_model_dir() : options.model_dir;
}

void silence_pocketsphinx() {
    // PocketSphinx logs a page per decoder to stderr; "-logfn /dev/null" covers a decoder's own
    // lines, this the library-wide ones. Process-wide, set once.
    static std::once_flag once;
    std::call_once(once, [] { err_set_logfp(nullptr); });
}

}  // namespace

std::string default_sphinx_model_dir() {
    if (const char* dir = std::getenv("TL_POCKETSPHINX_MODELDIR"); dir != nullptr && *dir) {
        return dir;
    }
    return TL_POCKETSPHINX_MODELDIR;
}

struct SphinxDecoder::Impl {
    ConfigPtr config;
    DecoderPtr decoder;
};

SphinxDecoder::SphinxDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SphinxDecoder::~SphinxDecoder() = default;

Result<DictionaryLookup> SphinxDecoder::look_up(const std::vector<std::string>& words,
                                                const SphinxDecoderOptions& options) {
    const std::string path = model_dir(options) + "/en-us/cmudict-en-us.dict";
    std::ifstream in(path);
    if (!in) {
        return make_error(Errc::kUnavailable, "cannot read the PocketSphinx dictionary " + path +
                                                  " (Debian package pocketsphinx-en-us)");
    }
    std::unordered_map<std::string, bool> wanted;  // word -> found
    for (const auto& word : words) {
        wanted.emplace(word, false);
    }
    DictionaryLookup lookup;
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t space = line.find(' ');
        if (space == std::string::npos || space == 0) {
            continue;
        }
        std::string_view entry(line.data(), space);
        std::string_view base = entry;
        if (const std::size_t paren = entry.find('('); paren != std::string_view::npos) {
            base = entry.substr(0, paren);  // "sales(2)": an alternate pronunciation
        }
        auto it = wanted.find(std::string(base));
        if (it == wanted.end()) {
            continue;
        }
        it->second = true;
        const std::size_t phones = line.find_first_not_of(' ', space);
        lookup.found.push_back({std::string(entry), line.substr(phones)});
    }
    for (const auto& word : words) {
        if (!wanted[word]) {
            lookup.missing.push_back(word);
        }
    }
    return lookup;
}

Result<std::unique_ptr<SphinxDecoder>> SphinxDecoder::create(
    const std::vector<Pronunciation>& pronunciations,
    const std::string& jsgf,
    const SphinxDecoderOptions& options) {
    silence_pocketsphinx();
    const std::string base = model_dir(options);
    const std::string hmm = base + "/en-us/en-us";
    const std::string wip = fmt::format("{:g}", options.word_insertion_penalty);
    auto impl = std::make_unique<Impl>();
    // The dictionary starts empty ("/dev/null") and receives just the grammar's words below.
    impl->config.reset(cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-dict",
                                   "/dev/null", "-samprate", "16000", "-wip", wip.c_str(), "-logfn",
                                   "/dev/null", nullptr));
    if (!impl->config) {
        return make_error(Errc::kInternal, "PocketSphinx rejected its configuration");
    }
    impl->decoder.reset(ps_init(impl->config.get()));
    if (!impl->decoder) {
        return make_error(Errc::kUnavailable, "PocketSphinx failed to load the en-us model from " +
                                                  hmm + " (Debian package pocketsphinx-en-us)");
    }
    for (const auto& p : pronunciations) {
        // Returns the new word's id, or -1 (a phone the model does not know, or a duplicate).
        if (ps_add_word(impl->decoder.get(), p.word.c_str(), p.phones.c_str(), FALSE) < 0) {
            return make_error(Errc::kInvalidRequest,
                              "PocketSphinx rejected the pronunciation of '" + p.word + "'");
        }
    }
    if (ps_set_jsgf_string(impl->decoder.get(), kSearchName, jsgf.c_str()) != 0 ||
        ps_set_search(impl->decoder.get(), kSearchName) != 0) {
        return make_error(Errc::kInvalidRequest, "PocketSphinx rejected the grammar");
    }
    return std::unique_ptr<SphinxDecoder>(new SphinxDecoder(std::move(impl)));
}

Result<std::string> SphinxDecoder::decode(std::span<const std::int16_t> audio, int sample_rate) {
    if (sample_rate <= 0) {
        return make_error(Errc::kInvalidRequest, "sample rate must be positive", "sample_rate");
    }
    if (audio.empty()) {
        return make_error(Errc::kInvalidRequest, "no audio to recognise", "audio");
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

}  // namespace tl::voice
