#include "voice/listening/sphinx_decoder.hpp"

#include <fmt/format.h>
#include <pocketsphinx.h>
#include <pocketsphinx/ps_lattice.h>
#include <sphinxbase/err.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
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

// Each word's posterior: the probability mass of the lattice's nodes for the same word that span
// the middle of the word's segment. The search's own segmentation does not carry posteriors (it
// reports 1 for every word), so they are computed here from the word lattice by forward-backward.
void fill_posteriors(ps_decoder_t* decoder,
                     std::vector<DecodedWord>& words,
                     const SphinxDecoder::Synonyms* synonyms) {
    auto class_of = [synonyms](std::string_view word) -> std::string_view {
        if (synonyms != nullptr) {
            if (auto it = synonyms->find(std::string(word)); it != synonyms->end()) return it->second;
        }
        return word;
    };
    ps_lattice_t* lattice = ps_get_lattice(decoder);
    if (lattice == nullptr) {
        return;
    }
    // 1/20: PocketSphinx's acoustic scale (-ascale 20), which makes the scores posteriors.
    // The forward pass (alphas and the normaliser) is ps_lattice_bestpath's; posterior() adds
    // the backward pass.
    if (ps_lattice_bestpath(lattice, nullptr, 1.0F, 1.0F / 20) == nullptr) {
        return;
    }
    ps_lattice_posterior(lattice, nullptr, 1.0F / 20);
    logmath_t* logmath = ps_lattice_get_logmath(lattice);
    for (auto& word : words) {
        const int middle = (word.first_frame + word.last_frame) / 2;
        double mass = 0;
        for (ps_latnode_iter_t* it = ps_latnode_iter(lattice); it != nullptr;
             it = ps_latnode_iter_next(it)) {
            ps_latnode_t* node = ps_latnode_iter_node(it);
            std::int16_t first_end = 0;
            std::int16_t last_end = 0;
            const int start = ps_latnode_times(node, &first_end, &last_end);
            if (start > middle || last_end < middle ||
                class_of(word.word) != class_of(ps_latnode_baseword(lattice, node))) {
                continue;
            }
            for (ps_latlink_iter_t* link = ps_latnode_exits(node); link != nullptr;
                 link = ps_latlink_iter_next(link)) {
                std::int32_t acoustic = 0;
                mass += logmath_exp(logmath, ps_latlink_prob(lattice, ps_latlink_iter_link(link), &acoustic));
            }
        }
        word.posterior = std::min(1.0, mass);
    }
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
    std::string first_grammar;
    std::string current_grammar;  // the search PocketSphinx has active
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
    return create(pronunciations, std::vector<Grammar>{{kSearchName, jsgf}}, options);
}

Result<std::unique_ptr<SphinxDecoder>> SphinxDecoder::create(
    const std::vector<Pronunciation>& pronunciations,
    const std::vector<Grammar>& grammars,
    const SphinxDecoderOptions& options) {
    if (grammars.empty()) {
        return make_error(Errc::kInvalidRequest, "a decoder needs a grammar");
    }
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
    for (const auto& grammar : grammars) {
        if (ps_set_jsgf_string(impl->decoder.get(), grammar.name.c_str(), grammar.jsgf.c_str()) !=
            0) {
            return make_error(Errc::kInvalidRequest,
                              "PocketSphinx rejected the grammar '" + grammar.name + "'");
        }
    }
    impl->first_grammar = grammars.front().name;
    impl->current_grammar = impl->first_grammar;
    if (ps_set_search(impl->decoder.get(), impl->current_grammar.c_str()) != 0) {
        return make_error(Errc::kInvalidRequest, "PocketSphinx rejected the grammar");
    }
    return std::unique_ptr<SphinxDecoder>(new SphinxDecoder(std::move(impl)));
}

Result<std::string> SphinxDecoder::decode(std::span<const std::int16_t> audio, int sample_rate) {
    auto words = decode_words(audio, sample_rate);
    if (!words) {
        return words.error();
    }
    return words_text(*words);
}

std::string words_text(const std::vector<DecodedWord>& words) {
    std::string text;
    for (const auto& w : words) {
        text += (text.empty() ? "" : " ") + w.word;
    }
    return text;
}

Result<std::vector<DecodedWord>> SphinxDecoder::decode_words(std::span<const std::int16_t> audio,
                                                             int sample_rate,
                                                             const std::string& grammar,
                                                             const Synonyms* synonyms,
                                                             double* log_score) {
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
    const std::string& wanted = grammar.empty() ? impl_->first_grammar : grammar;
    if (wanted != impl_->current_grammar) {
        if (ps_set_search(decoder, wanted.c_str()) != 0) {
            return make_error(Errc::kInvalidRequest, "no grammar named '" + wanted + "'");
        }
        impl_->current_grammar = wanted;
    }
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
    std::vector<DecodedWord> words;
    double path_score = 0;  // acoustic log-likelihood of every segment, silences included
    for (ps_seg_t* seg = ps_seg_iter(decoder); seg != nullptr; seg = ps_seg_next(seg)) {
        std::int32_t acoustic = 0;
        std::int32_t grammar_score = 0;
        std::int32_t backoff = 0;
        ps_seg_prob(seg, &acoustic, &grammar_score, &backoff);
        // Lattice links keep acoustic scores shifted right by 10 bits (PocketSphinx's
        // SENSCR_SHIFT); the grammar's own weights are the same for every path compared here.
        path_score += logmath_log_to_ln(ps_get_logmath(decoder), acoustic) * 1024.0;
        std::string_view word = ps_seg_word(seg);
        if (word.empty() || word.front() == '<' || word.front() == '[' || word == "(NULL)") {
            continue;  // <s>, </s>, <sil>, [NOISE]: not words the caller said
        }
        if (const auto paren = word.find('('); paren != std::string_view::npos) {
            word = word.substr(0, paren);
        }
        DecodedWord out;
        out.word = std::string(word);
        ps_seg_frames(seg, &out.first_frame, &out.last_frame);
        words.push_back(std::move(out));
    }
    if (log_score != nullptr) {
        // No segment at all: the grammar could not explain the audio (no path reached its end).
        const bool explained = ps_get_hyp(decoder, nullptr) != nullptr;
        *log_score = explained ? path_score : -std::numeric_limits<double>::infinity();
    }
    fill_posteriors(decoder, words, synonyms);
    return words;
}

}  // namespace tl::voice
