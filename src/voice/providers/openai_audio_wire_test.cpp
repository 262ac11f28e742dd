// The audio endpoints' wire formats: the transcription upload, its answer, the speech request
// and its audio (WAV at any rate, raw 24 kHz PCM) decoded to 8 kHz.

#include "voice/providers/openai_audio_wire.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <numbers>

#include "media/wav.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;

std::vector<std::int16_t> tone(int rate, double seconds, double hz = 440) {
    std::vector<std::int16_t> out(static_cast<std::size_t>(rate * seconds));
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::int16_t>(
            8000 * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
    }
    return out;
}

TEST(EncodeWav, RoundTripsThroughTheWavReader) {
    const auto samples = tone(8000, 0.5);
    const auto bytes = encode_wav(samples, 8000);
    EXPECT_EQ(bytes.size(), 44 + samples.size() * 2);
    auto wav = media::parse_wav(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    ASSERT_TRUE(wav) << wav.error().message;
    EXPECT_EQ(wav->sample_rate, 8000);
    EXPECT_EQ(wav->samples, samples);
}

TEST(TranscriptionForm, FieldsInOrder) {
    media::Pcm audio(800, 7);
    auto form = make_transcription_form(audio, {"whisper-1", "en-US", "sales, support"}, "B");
    const auto body = form.finish();
    const std::string wav = encode_wav(audio, 8000);
    const std::string expected =
        "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.wav\"\r\n"
        "Content-Type: audio/wav\r\n\r\n" +
        wav +
        "\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nsales, support\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\njson\r\n"
        "--B--\r\n";
    EXPECT_EQ(body, expected);

    auto detect = make_transcription_form(audio, {"m", "multi", ""}, "B").finish();
    EXPECT_EQ(detect.find("name=\"language\""), std::string::npos);
    EXPECT_EQ(detect.find("name=\"prompt\""), std::string::npos);
}

TEST(ParseTranscription, JsonTextOrPlainText) {
    auto j = parse_transcription(R"({"text":"I want to talk to sales","language":"en"})",
                                 "application/json");
    ASSERT_TRUE(j);
    EXPECT_EQ(*j, "I want to talk to sales");
    auto t = parse_transcription("goodbye\n", "text/plain; charset=utf-8");
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, "goodbye");
    for (const auto* bad : {"", "{", R"({"txt":"x"})", R"({"text":5})", "[]"}) {
        auto r = parse_transcription(bad, "application/json");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::kUnavailable);
        EXPECT_NE(r.error().message.find("malformed transcription reply"), std::string::npos);
    }
}

TEST(SpeechRequest, Body) {
    SpeechOptions o;
    o.model = "tts-1";
    o.voice = "alloy";
    EXPECT_EQ(json::value(make_speech_request_body("Hello", o)),
              json::parse(
                  R"({"model":"tts-1","input":"Hello","voice":"alloy","response_format":"wav"})"));
    o.speed = 1.25;
    o.response_format = "pcm";
    EXPECT_EQ(
        json::value(make_speech_request_body("Hi", o)),
        json::parse(
            R"({"model":"tts-1","input":"Hi","voice":"alloy","response_format":"pcm","speed":1.25})"));
}

TEST(DecodeSpeech, WavAtAnyRateBecomes8kHz) {
    SpeechOptions o;
    for (const int rate : {8000, 16000, 22050, 24000}) {
        const auto bytes = encode_wav(tone(rate, 1.0), rate);
        auto pcm = decode_speech(bytes, "audio/wav", o);
        ASSERT_TRUE(pcm) << pcm.error().message;
        EXPECT_NEAR(static_cast<double>((*pcm)->size()), 8000.0, 2.0) << rate;
    }
}

TEST(DecodeSpeech, RawPcmAt24kHz) {
    SpeechOptions o;
    o.response_format = "pcm";
    const auto samples = tone(24000, 0.5);
    std::string bytes;
    for (const auto s : samples) {
        bytes.push_back(static_cast<char>(s & 0xFF));
        bytes.push_back(static_cast<char>((static_cast<std::uint16_t>(s) >> 8) & 0xFF));
    }
    auto pcm = decode_speech(bytes, "application/octet-stream", o);
    ASSERT_TRUE(pcm) << pcm.error().message;
    EXPECT_NEAR(static_cast<double>((*pcm)->size()), 4000.0, 2.0);
    // Still the tone: the peak level survives the resampler.
    std::int16_t peak = 0;
    for (const auto s : **pcm) peak = std::max<std::int16_t>(peak, s);
    EXPECT_GT(peak, 7000);

    auto odd = decode_speech(bytes.substr(1), "audio/pcm", o);
    ASSERT_FALSE(odd);
    EXPECT_NE(odd.error().message.find("odd number of bytes"), std::string::npos);
}

TEST(DecodeSpeech, ClearErrors) {
    SpeechOptions o;
    auto json_body = decode_speech(R"({"error":"x"})", "application/json", o);
    ASSERT_FALSE(json_body);
    EXPECT_NE(json_body.error().message.find("answered application/json instead of audio"),
              std::string::npos);
    auto garbage = decode_speech("not audio at all", "audio/wav", o);
    ASSERT_FALSE(garbage);
    EXPECT_NE(garbage.error().message.find("not a RIFF/WAVE file"), std::string::npos);
    auto empty = decode_speech(encode_wav({}, 24000), "audio/wav", o);
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("no audio"), std::string::npos);
}

}  // namespace
}  // namespace tl::voice
