#include "voice/providers/openai_audio_wire.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>

#include "media/resampler.hpp"
#include "media/wav.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;

constexpr int kTargetRate = 8000;

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
}

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// "application/json; charset=utf-8" -> "application/json"
std::string media_type(std::string_view content_type) {
    const auto semi = content_type.find(';');
    auto type = content_type.substr(0, semi);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    return lower(type);
}

Error malformed(std::string what) { return make_error(Errc::kUnavailable, std::move(what)); }

}  // namespace

std::string encode_wav(std::span<const std::int16_t> samples, int sample_rate) {
    const auto data_bytes = static_cast<std::uint32_t>(samples.size() * 2);
    std::string out;
    out.reserve(44 + data_bytes);
    out += "RIFF";
    put32(out, 36 + data_bytes);
    out += "WAVEfmt ";
    put32(out, 16);
    put16(out, 1);  // PCM
    put16(out, 1);  // mono
    put32(out, static_cast<std::uint32_t>(sample_rate));
    put32(out, static_cast<std::uint32_t>(sample_rate) * 2);  // byte rate
    put16(out, 2);                                            // block align
    put16(out, 16);                                           // bits per sample
    out += "data";
    put32(out, data_bytes);
    for (const auto s : samples) put16(out, static_cast<std::uint16_t>(s));
    return out;
}

MultipartForm make_transcription_form(const media::Pcm& audio8k,
                                      const TranscriptionOptions& options,
                                      std::string boundary) {
    MultipartForm form(std::move(boundary));
    form.add_file("file", "audio.wav", "audio/wav", encode_wav(audio8k, kTargetRate));
    form.add_field("model", options.model);
    const auto language =
        lower(std::string_view(options.language)
                  .substr(0, std::string_view(options.language).find_first_of("-_")));
    if (!language.empty() && language != "multi") form.add_field("language", language);
    if (!options.prompt.empty()) form.add_field("prompt", options.prompt);
    form.add_field("response_format", "json");
    return form;
}

Result<std::string> parse_transcription(std::string_view body, std::string_view content_type) {
    const auto type = media_type(content_type);
    if (type == "text/plain") {
        auto text = std::string(body);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
            text.pop_back();
        }
        return text;
    }
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec || !value.is_object()) {
        return malformed("malformed transcription reply: the body is not a JSON object");
    }
    const auto* text = value.get_object().if_contains("text");
    if (text == nullptr || !text->is_string()) {
        return malformed("malformed transcription reply: no \"text\" string");
    }
    return std::string(text->get_string());
}

json::object make_speech_request_body(std::string_view text, const SpeechOptions& options) {
    json::object body{{"model", options.model},
                      {"input", text},
                      {"voice", options.voice},
                      {"response_format", options.response_format}};
    if (options.speed) body["speed"] = *options.speed;
    return body;
}

Result<std::shared_ptr<const media::Pcm>> decode_speech(std::string_view body,
                                                        std::string_view content_type,
                                                        const SpeechOptions& options) {
    const auto type = media_type(content_type);
    if (type == "application/json" || type.rfind("text/", 0) == 0) {
        return malformed("the speech endpoint answered " + type + " instead of audio");
    }
    std::vector<std::int16_t> samples;
    int rate = 0;
    if (options.response_format == "pcm") {
        if (body.size() % 2 != 0) {
            return malformed("the speech endpoint's PCM audio has an odd number of bytes");
        }
        samples.resize(body.size() / 2);
        for (std::size_t i = 0; i < samples.size(); ++i) {
            const auto lo = static_cast<unsigned char>(body[2 * i]);
            const auto hi = static_cast<unsigned char>(body[2 * i + 1]);
            samples[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
        }
        rate = options.pcm_sample_rate;
    } else {
        auto wav = media::parse_wav(std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
        if (!wav) return malformed("the speech endpoint's audio: " + wav.error().message);
        samples = std::move(wav->samples);
        rate = wav->sample_rate;
    }
    if (samples.empty()) return malformed("the speech endpoint returned no audio");
    if (rate <= 0) return malformed("the speech endpoint's audio has no sample rate");
    auto pcm =
        rate == kTargetRate ? std::move(samples) : media::resample(samples, rate, kTargetRate);
    return std::shared_ptr<const media::Pcm>(std::make_shared<media::Pcm>(std::move(pcm)));
}

}  // namespace tl::voice
