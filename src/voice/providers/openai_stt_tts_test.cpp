// The OpenAI-compatible STT and TTS providers against a fake server on loopback: the
// transcription upload checked field by field by the server (its own multipart parser), speech
// returned as WAV or raw PCM and decoded to 8 kHz, retries, timeouts and clear errors.

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <cmath>
#include <future>
#include <numbers>
#include <thread>

#include "media/wav.hpp"
#include "voice/providers/fake_openai_server.hpp"
#include "voice/providers/openai_audio_wire.hpp"
#include "voice/providers/openai_stt.hpp"
#include "voice/providers/openai_tts.hpp"
#include "voice/text_to_speech.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::FakeOpenAiServer;
using testing::FakeReply;
using testing::FakeRequest;

class Io {
public:
    Io() : thread_([this] { io_.run(); }) {}
    ~Io() {
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    boost::asio::any_io_executor executor() { return io_.get_executor(); }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
        io_.get_executor()};
    std::thread thread_;
};

struct Part {
    std::string disposition;
    std::string content_type;
    std::string content;
};

// The fake server's own reading of a multipart/form-data body (RFC 7578, RFC 2046 §5.1.1),
// written independently of MultipartForm: parts by name.
std::map<std::string, Part> parse_multipart(const std::string& content_type,
                                            const std::string& body) {
    std::map<std::string, Part> parts;
    const auto b = content_type.find("boundary=");
    if (content_type.rfind("multipart/form-data;", 0) != 0 || b == std::string::npos) return parts;
    const std::string delimiter = "--" + content_type.substr(b + 9);
    std::size_t pos = body.find(delimiter);
    while (pos != std::string::npos) {
        pos += delimiter.size();
        if (body.compare(pos, 2, "--") == 0) break;  // close delimiter
        pos += 2;                                    // CRLF
        const auto head_end = body.find("\r\n\r\n", pos);
        const auto next = body.find("\r\n" + delimiter, head_end);
        if (head_end == std::string::npos || next == std::string::npos) break;
        Part part;
        std::string head = body.substr(pos, head_end - pos);
        std::size_t line_start = 0;
        while (line_start <= head.size()) {
            auto line_end = head.find("\r\n", line_start);
            if (line_end == std::string::npos) line_end = head.size();
            const auto line = head.substr(line_start, line_end - line_start);
            if (line.rfind("Content-Disposition: ", 0) == 0) part.disposition = line.substr(21);
            if (line.rfind("Content-Type: ", 0) == 0) part.content_type = line.substr(14);
            line_start = line_end + 2;
        }
        part.content = body.substr(head_end + 4, next - head_end - 4);
        const auto n = part.disposition.find("name=\"");
        const auto name = part.disposition.substr(n + 6, part.disposition.find('"', n + 6) - n - 6);
        parts[name] = part;
        pos = next + 2;
    }
    return parts;
}

media::Pcm tone(int rate, double seconds) {
    media::Pcm out(static_cast<std::size_t>(rate * seconds));
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::int16_t>(
            6000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / rate));
    }
    return out;
}

OpenAiTranscriptionSettings stt_settings(const std::string& url) {
    OpenAiTranscriptionSettings s;
    s.endpoint.provider = "openai_compatible";
    s.endpoint.base_url = url;
    s.endpoint.api_key = "sk-stt-0123456789";
    s.options.model = "whisper-1";
    s.options.language = "en";
    s.options.prompt = "sales, support";
    s.timeout = 3s;
    return s;
}

Result<std::string> transcribe(SpeechToText& stt,
                               std::shared_ptr<const media::Pcm> audio,
                               std::string language = "") {
    // Shared: the callback may still be returning from set_value when the test moves on.
    auto promise = std::make_shared<std::promise<Result<std::string>>>();
    auto future = promise->get_future();
    stt.transcribe({std::move(audio), std::move(language)},
                   [promise](Result<std::string> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(10s) != std::future_status::ready) {
        return make_error(Errc::kInternal, "test: no answer");
    }
    return future.get();
}

TEST(OpenAiStt, UploadsTheUtteranceAsMultipartWav) {
    FakeOpenAiServer server([](const FakeRequest&) {
        FakeReply r;
        r.body = R"({"text":"I want to talk to sales.","task":"transcribe","duration":1.0})";
        return r;
    });
    Io io;
    auto stt = make_openai_speech_to_text(io.executor(), stt_settings(server.base_url()));
    auto audio = std::make_shared<const media::Pcm>(tone(8000, 1.0));
    auto text = transcribe(*stt, audio);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, "I want to talk to sales.");

    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& r = requests[0];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/audio/transcriptions");
    EXPECT_EQ(r.header("Authorization"), "Bearer sk-stt-0123456789");
    const auto parts = parse_multipart(r.header("Content-Type"), r.body);
    ASSERT_EQ(parts.size(), 5u) << r.header("Content-Type");
    const auto& file = parts.at("file");
    EXPECT_EQ(file.disposition, R"(form-data; name="file"; filename="audio.wav")");
    EXPECT_EQ(file.content_type, "audio/wav");
    auto wav = media::parse_wav(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(file.content.data()), file.content.size()));
    ASSERT_TRUE(wav) << wav.error().message;
    EXPECT_EQ(wav->sample_rate, 8000);
    EXPECT_EQ(wav->samples, *audio);
    EXPECT_EQ(parts.at("model").content, "whisper-1");
    EXPECT_EQ(parts.at("language").content, "en");
    EXPECT_EQ(parts.at("prompt").content, "sales, support");
    EXPECT_EQ(parts.at("response_format").content, "json");
}

TEST(OpenAiStt, RequestLanguageWinsAndMultiIsNotSent) {
    FakeOpenAiServer server([](const FakeRequest&) {
        FakeReply r;
        r.body = R"({"text":"hallo"})";
        return r;
    });
    Io io;
    auto stt = make_openai_speech_to_text(io.executor(), stt_settings(server.base_url()));
    auto audio = std::make_shared<const media::Pcm>(800, 1);
    ASSERT_TRUE(transcribe(*stt, audio, "nl-NL"));
    ASSERT_TRUE(transcribe(*stt, audio, "multi"));
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(parse_multipart(requests[0].header("Content-Type"), requests[0].body)
                  .at("language")
                  .content,
              "nl");
    EXPECT_FALSE(
        parse_multipart(requests[1].header("Content-Type"), requests[1].body).contains("language"));
}

TEST(OpenAiStt, RetriedOnceAfter503) {
    std::atomic<int> n{0};
    FakeOpenAiServer server([&](const FakeRequest&) {
        FakeReply r;
        if (n++ == 0) {
            r.status = 503;
            r.body = R"({"detail":"model loading"})";
        } else {
            r.body = R"({"text":"goodbye"})";
        }
        return r;
    });
    Io io;
    auto stt = make_openai_speech_to_text(io.executor(), stt_settings(server.base_url()));
    auto text = transcribe(*stt, std::make_shared<const media::Pcm>(800, 1));
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, "goodbye");
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST(OpenAiStt, ClearErrors) {
    FakeOpenAiServer server([](const FakeRequest& req) {
        FakeReply r;
        if (req.body.find("slow-model") != std::string::npos) {
            r.delay_before_head = 2s;
            r.body = R"({"text":"late"})";
        } else if (req.body.find("bad-model") != std::string::npos) {
            r.status = 404;
            r.body = R"({"error":{"message":"The model `bad-model` does not exist"}})";
        } else {
            r.body = R"({"txt":"x"})";
        }
        return r;
    });
    Io io;
    auto audio = std::make_shared<const media::Pcm>(800, 1);

    auto malformed = transcribe(
        *make_openai_speech_to_text(io.executor(), stt_settings(server.base_url())), audio);
    ASSERT_FALSE(malformed);
    EXPECT_EQ(malformed.error().code, Errc::kUnavailable);
    EXPECT_NE(malformed.error().message.find("malformed transcription reply: no \"text\" string"),
              std::string::npos);

    auto bad = stt_settings(server.base_url());
    bad.options.model = "bad-model";
    auto missing = transcribe(*make_openai_speech_to_text(io.executor(), bad), audio);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::kInvalidRequest);
    EXPECT_NE(
        missing.error().message.find("HTTP 404 Not Found: The model `bad-model` does not exist"),
        std::string::npos)
        << missing.error().message;

    auto slow = stt_settings(server.base_url());
    slow.options.model = "slow-model";
    slow.timeout = 300ms;
    auto timed_out = transcribe(*make_openai_speech_to_text(io.executor(), slow), audio);
    ASSERT_FALSE(timed_out);
    EXPECT_EQ(timed_out.error().code, Errc::kUnavailable);
    EXPECT_NE(timed_out.error().message.find("timed out after 300 ms"), std::string::npos)
        << timed_out.error().message;

    const auto before = server.requests().size();
    auto stt = make_openai_speech_to_text(io.executor(), stt_settings(server.base_url()));
    auto empty = transcribe(*stt, std::make_shared<const media::Pcm>());
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, Errc::kInvalidRequest);
    auto none = transcribe(*stt, nullptr);
    ASSERT_FALSE(none);
    EXPECT_EQ(server.requests().size(), before);  // nothing sent
}

TEST(OpenAiStt, CancelledTranscriptionNeverAnswers) {
    FakeOpenAiServer server([](const FakeRequest&) {
        FakeReply r;
        r.delay_before_head = 500ms;
        r.body = R"({"text":"late"})";
        return r;
    });
    Io io;
    auto stt = make_openai_speech_to_text(io.executor(), stt_settings(server.base_url()));
    std::atomic<int> answers{0};
    auto pending = stt->transcribe({std::make_shared<const media::Pcm>(800, 1), ""},
                                   [&](Result<std::string>) { ++answers; });
    std::this_thread::sleep_for(100ms);
    pending->cancel();
    std::this_thread::sleep_for(800ms);
    EXPECT_EQ(answers.load(), 0);
}

OpenAiSpeechSettings tts_settings(const std::string& url) {
    OpenAiSpeechSettings s;
    s.endpoint.provider = "openai_compatible";
    s.endpoint.base_url = url;
    s.endpoint.api_key = "sk-tts-0123456789";
    s.options.model = "tts-1";
    s.options.voice = "alloy";
    s.timeout = 3s;
    return s;
}

TEST(OpenAiTts, WavAt24kHzIsDecodedTo8kHz) {
    FakeOpenAiServer server([](const FakeRequest&) {
        FakeReply r;
        r.content_type = "audio/wav";
        const auto audio = tone(24000, 1.5);
        const auto wav = encode_wav(audio, 24000);
        // Streamed like OpenAI does: chunked, cut in the middle of a sample.
        r.chunks = {wav.substr(0, 1001), wav.substr(1001, 30000), wav.substr(31001)};
        return r;
    });
    Io io;
    auto tts = make_openai_text_to_speech(io.executor(), tts_settings(server.base_url()));
    auto pcm = tts->synthesize("Welcome to Acme.", "en");
    ASSERT_TRUE(pcm) << pcm.error().message;
    EXPECT_NEAR(static_cast<double>((*pcm)->size()), 12000.0, 2.0);
    std::int16_t peak = 0;
    for (const auto s : **pcm) peak = std::max(peak, s);
    EXPECT_GT(peak, 5000);  // still the tone, not silence

    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].target, "/v1/audio/speech");
    EXPECT_EQ(requests[0].header("Authorization"), "Bearer sk-tts-0123456789");
    EXPECT_EQ(
        json::parse(requests[0].body),
        json::parse(
            R"({"model":"tts-1","input":"Welcome to Acme.","voice":"alloy","response_format":"wav"})"));
}

TEST(OpenAiTts, RawPcmThroughTheSpeechService) {
    FakeOpenAiServer server([](const FakeRequest&) {
        FakeReply r;
        r.content_type = "audio/pcm";
        const auto audio = tone(24000, 0.5);
        r.body.assign(reinterpret_cast<const char*>(audio.data()), audio.size() * 2);  // LE host
        return r;
    });
    Io io;
    auto settings = tts_settings(server.base_url());
    settings.options.response_format = "pcm";
    SpeechService service(make_openai_text_to_speech(io.executor(), settings), 1, 4);
    auto promise = std::make_shared<std::promise<Result<PcmPtr>>>();
    service.synthesize("Hello", "en",
                       [promise](Result<PcmPtr> r) { promise->set_value(std::move(r)); });
    auto future = promise->get_future();
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    auto pcm = future.get();
    ASSERT_TRUE(pcm) << pcm.error().message;
    EXPECT_NEAR(static_cast<double>((*pcm)->size()), 4000.0, 2.0);
}

TEST(OpenAiTts, ClearErrors) {
    FakeOpenAiServer server([](const FakeRequest& req) {
        FakeReply r;
        if (req.body.find("\"voice\":\"nobody\"") != std::string::npos) {
            r.status = 400;
            r.body = R"({"error":{"message":"Invalid voice 'nobody'"}})";
        } else {
            r.body = R"({"status":"queued"})";  // JSON where audio was expected
        }
        return r;
    });
    Io io;
    auto settings = tts_settings(server.base_url());
    auto json_answer = make_openai_text_to_speech(io.executor(), settings)->synthesize("Hi", "");
    ASSERT_FALSE(json_answer);
    EXPECT_EQ(json_answer.error().code, Errc::kUnavailable);
    EXPECT_NE(json_answer.error().message.find("answered application/json instead of audio"),
              std::string::npos);

    settings.options.voice = "nobody";
    auto bad_voice = make_openai_text_to_speech(io.executor(), settings)->synthesize("Hi", "");
    ASSERT_FALSE(bad_voice);
    EXPECT_EQ(bad_voice.error().code, Errc::kInvalidRequest);
    EXPECT_NE(bad_voice.error().message.find("HTTP 400 Bad Request: Invalid voice 'nobody'"),
              std::string::npos);
    EXPECT_EQ(server.requests().size(), 2u);  // 4xx is not retried

    auto tts = make_openai_text_to_speech(io.executor(), settings);
    EXPECT_EQ(tts->synthesize("", "").error().code, Errc::kInvalidRequest);
    EXPECT_EQ(tts->synthesize(std::string(4097, 'a'), "").error().code, Errc::kInvalidRequest);
    EXPECT_EQ(server.requests().size(), 2u);
}

}  // namespace
}  // namespace tl::voice
