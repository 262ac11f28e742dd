#include "voice/testing/sphinx_transcriber.hpp"

#include <algorithm>
#include <cctype>

#include "voice/listening/sphinx_decoder.hpp"

namespace tl::voice::testing {
namespace {

// A JSGF token we can write unquoted: lower-case letters and apostrophes ("don't").
bool plain_word(const std::string& word) {
    return !word.empty() && std::all_of(word.begin(), word.end(),
                                        [](char c) { return (c >= 'a' && c <= 'z') || c == '\''; });
}

}  // namespace

struct SphinxTranscriber::Impl {
    std::unique_ptr<SphinxDecoder> decoder;
};

SphinxTranscriber::SphinxTranscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SphinxTranscriber::~SphinxTranscriber() = default;

Result<std::unique_ptr<SphinxTranscriber>> SphinxTranscriber::create(
    std::vector<std::string> vocabulary) {
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
    // PocketSphinx's default word insertion penalty: the figures in DESIGN.md and espeak_tts.cpp
    // were measured with it.
    const SphinxDecoderOptions options;
    auto lookup = SphinxDecoder::look_up(vocabulary, options);
    if (!lookup) {
        return lookup.error();
    }
    if (!lookup->missing.empty()) {
        std::string missing;
        for (const auto& word : lookup->missing) {
            missing += (missing.empty() ? "" : ", ") + word;
        }
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
    auto decoder = SphinxDecoder::create(lookup->found, grammar, options);
    if (!decoder) {
        return decoder.error();
    }
    auto impl = std::make_unique<Impl>();
    impl->decoder = std::move(*decoder);
    return std::unique_ptr<SphinxTranscriber>(new SphinxTranscriber(std::move(impl)));
}

Result<std::string> SphinxTranscriber::transcribe(std::span<const std::int16_t> audio,
                                                  int sample_rate) {
    if (audio.empty() && sample_rate > 0) {
        return std::string();  // nothing said (the decoder refuses empty audio)
    }
    return impl_->decoder->decode(audio, sample_rate);
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
