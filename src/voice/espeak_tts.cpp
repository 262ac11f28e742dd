// The embedded espeak-ng provider. libespeak-ng keeps all of its state in globals (one voice, one
// output callback, one sample rate), so every instance shares one engine behind one mutex: a
// synthesis of a greeting takes a few milliseconds, so serialising them costs little, and the
// SpeechService worker pool keeps them off the SIP thread and the call strands.

#include <espeak-ng/speak_lib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <set>
#include <string_view>
#include <vector>

#include "media/resampler.hpp"
#include "voice/text_to_speech.hpp"

namespace tl::voice {
namespace {

constexpr std::size_t kMaxTextBytes = 4096;
constexpr int kTargetRate = 8000;
constexpr std::string_view kDefaultVoice = "en-us";
// espeak-ng's voice variant, applied to every language. Measured with PocketSphinx on 8 kHz audio
// (4 prompts x 8 syntheses, 44-word vocabulary): the default variant was recognised in 16 of 32
// (0 of 8 for "Welcome to Acme support"), "klatt4" (the Klatt formant synthesiser) in 32 of 32,
// as were "klatt", "f2" and "edward". Telephone callers get the clearer one.
constexpr std::string_view kVariant = "+klatt4";
// A bound on the audio one request may produce (memory), far above what 4096 characters yield.
constexpr std::size_t kMaxSeconds = 15 * 60;
constexpr std::size_t kMaxUnknownRemembered = 64;

// True when `text` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) and
// holds no NUL (espeak reads a C string and would stop there).
bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0) {
            return false;
        }
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

// The espeak voice to ask for first: "en" alone would give British English, and the assistant
// languages of a US-centred product mean American; "" and "multi" (auto-detect, used by network
// STT providers) have no espeak voice. Anything else is passed through as espeak names its voices
// by ISO 639-1 code ("nl", "de", "pt-br").
std::string voice_for(const std::string& language) {
    std::string lower;
    lower.reserve(language.size());
    for (char c : language) {
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    std::replace(lower.begin(), lower.end(), '_', '-');
    if (lower.empty() || lower == "multi" || lower == "en") {
        return std::string(kDefaultVoice);
    }
    return lower;
}

// A language code is a short run of letters and hyphens; anything else (from an assistant config,
// so user input) is not handed to espeak's file lookup at all.
bool plausible_language(const std::string& voice) {
    if (voice.empty() || voice.size() > 16) {
        return false;
    }
    for (char c : voice) {
        if (!std::isalpha(static_cast<unsigned char>(c)) && c != '-') {
            return false;
        }
    }
    return true;
}

// The process-wide engine. Constructed once (first make_espeak_tts()), never destroyed (espeak's
// globals outlive any owner anyway), every member guarded by mutex_.
class EspeakEngine {
public:
    static EspeakEngine& instance() {
        static EspeakEngine engine;
        return engine;
    }

    Result<PcmPtr> synthesize(const std::string& text, const std::string& language) {
        std::lock_guard lock(mutex_);
        if (sample_rate_ <= 0) {
            return make_error(Errc::kInternal,
                              "espeak-ng failed to initialise (is espeak-ng-data installed?)");
        }
        if (auto status = select_voice(language); !status) {
            return status.error();
        }
        // C0 controls become spaces: espeak reads some of them (0x01) as embedded commands.
        std::string input = text;
        std::replace_if(
            input.begin(), input.end(),
            [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\n'; }, ' ');
        samples_.clear();
        overflow_ = false;
        const espeak_ERROR rc = espeak_Synth(input.c_str(), input.size() + 1, 0, POS_CHARACTER, 0,
                                             espeakCHARS_UTF8, nullptr, nullptr);
        if (rc != EE_OK) {
            return make_error(Errc::kInternal,
                              "espeak-ng synthesis failed (espeak_Synth returned " +
                                  std::to_string(static_cast<int>(rc)) + ")");
        }
        if (overflow_) {
            return make_error(Errc::kInvalidRequest, "text produces too much audio to synthesise");
        }
        if (samples_.empty()) {
            // Text made only of punctuation or whitespace says nothing: an error rather than a
            // silent prompt, so a misconfigured greeting is noticed.
            return make_error(Errc::kInvalidRequest, "text produced no speech");
        }
        auto pcm =
            std::make_shared<media::Pcm>(media::resample(samples_, sample_rate_, kTargetRate));
        samples_.clear();
        samples_.shrink_to_fit();
        return PcmPtr(std::move(pcm));
    }

private:
    EspeakEngine() {
        sample_rate_ =
            espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
        if (sample_rate_ <= 0) {
            spdlog::error("espeak-ng: espeak_Initialize failed ({})", sample_rate_);
            return;
        }
        espeak_SetSynthCallback(&EspeakEngine::on_samples);
    }

    // Runs inside espeak_Synth on the calling thread (synchronous mode), so under mutex_.
    static int on_samples(short* wav, int count, espeak_EVENT* /*events*/) {
        auto& self = instance();
        if (wav == nullptr || count <= 0) {
            return 0;
        }
        const std::size_t limit = kMaxSeconds * static_cast<std::size_t>(self.sample_rate_);
        if (self.samples_.size() + static_cast<std::size_t>(count) > limit) {
            self.overflow_ = true;
            return 1;  // abort synthesis
        }
        self.samples_.insert(self.samples_.end(), wav, wav + count);
        return 0;
    }

    Status select_voice(const std::string& language) {
        std::string wanted = voice_for(language);
        if (!plausible_language(wanted)) {
            spdlog::warn("espeak-ng: language '{}' is not a language code; using {}",
                         language.substr(0, 32), kDefaultVoice);
            wanted = std::string(kDefaultVoice);
        }
        if (unknown_.contains(wanted)) {
            wanted = std::string(kDefaultVoice);  // warned about once already
        }
        if (wanted == current_voice_) {
            return {};
        }
        if (set_voice(wanted)) {
            current_voice_ = wanted;
            return {};
        }
        spdlog::warn("espeak-ng has no voice for language '{}'; using {}", language, kDefaultVoice);
        if (unknown_.size() < kMaxUnknownRemembered) {
            unknown_.insert(wanted);
        }
        if (wanted != kDefaultVoice && set_voice(std::string(kDefaultVoice))) {
            current_voice_ = std::string(kDefaultVoice);
            return {};
        }
        current_voice_.clear();
        return make_error(Errc::kInternal, "espeak-ng could not load its default voice en-us");
    }

    // By voice file name first ("nl", "pt-br") with our variant, then without it, then by
    // language property, which also finds voices whose file is named differently ("no" ->
    // Norwegian Bokmål "nb", "zh" -> "cmn").
    static bool set_voice(const std::string& voice) {
        const std::string with_variant = voice + std::string(kVariant);
        if (espeak_SetVoiceByName(with_variant.c_str()) == EE_OK ||
            espeak_SetVoiceByName(voice.c_str()) == EE_OK) {
            return true;
        }
        espeak_VOICE spec{};
        spec.languages = voice.c_str();
        return espeak_SetVoiceByProperties(&spec) == EE_OK;
    }

    std::mutex mutex_;
    int sample_rate_ = 0;
    std::string current_voice_;
    std::set<std::string> unknown_;  // languages espeak has no voice for
    std::vector<std::int16_t> samples_;
    bool overflow_ = false;
};

class EspeakTts final : public TextToSpeech {
public:
    Result<PcmPtr> synthesize(const std::string& text, const std::string& language) override {
        if (text.empty()) {
            return make_error(Errc::kInvalidRequest, "text to speak is empty", "text");
        }
        if (text.size() > kMaxTextBytes) {
            return make_error(
                Errc::kInvalidRequest,
                "text to speak is longer than " + std::to_string(kMaxTextBytes) + " bytes", "text");
        }
        if (!valid_utf8(text)) {
            return make_error(Errc::kInvalidRequest, "text to speak is not valid UTF-8", "text");
        }
        return EspeakEngine::instance().synthesize(text, language);
    }

    std::string name() const override { return "espeak-ng"; }
};

}  // namespace

std::shared_ptr<TextToSpeech> make_espeak_tts() {
    EspeakEngine::instance();  // initialise now, not inside the first call's latency
    return std::make_shared<EspeakTts>();
}

}  // namespace tl::voice
