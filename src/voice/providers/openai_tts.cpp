#include "voice/providers/openai_tts.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <future>

#include "net/http_client.hpp"
#include "voice/providers/openai_audio_wire.hpp"
#include "voice/providers/provider_http.hpp"

namespace tl::voice {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kMaxTextBytes = 4096;
// 4096 characters of speech last a few minutes: at 24 kHz 16-bit, under 32 MiB.
constexpr std::size_t kMaxAudioBytes = std::size_t{32} << 20;
// Beyond the request's own timeout, how long the worker waits for the strand at most (an
// io_context that stopped running never completes the request).
constexpr std::chrono::seconds kGrace{5};

class OpenAiTextToSpeech final : public TextToSpeech,
                                 public std::enable_shared_from_this<OpenAiTextToSpeech> {
public:
    OpenAiTextToSpeech(asio::any_io_executor executor, OpenAiSpeechSettings settings)
        : strand_(asio::make_strand(executor)),
          settings_(std::move(settings)),
          what_(detail::describe("TTS", settings_.endpoint.base_url)),
          client_(settings_.endpoint.tls
                      ? std::make_unique<net::HttpClient>(strand_, *settings_.endpoint.tls)
                      : std::make_unique<net::HttpClient>(strand_)) {}

    Result<PcmPtr> synthesize(const std::string& text, const std::string& language) override {
        if (text.empty() || text.size() > kMaxTextBytes) {
            return make_error(Errc::kInvalidRequest,
                              fmt::format("TTS: the text must hold 1 to {} bytes", kMaxTextBytes));
        }
        if (strand_.running_in_this_thread()) {
            return make_error(Errc::kInternal, "TTS: synthesize() called on the provider's strand");
        }
        auto future = asio::co_spawn(strand_, run(shared_from_this(), text), asio::use_future);
        if (future.wait_for(settings_.timeout * 2 + kGrace) != std::future_status::ready) {
            return make_error(Errc::kUnavailable,
                              what_ + ": no answer (is the io_context running?)");
        }
        try {
            return future.get();
        } catch (const std::exception& e) {
            return make_error(Errc::kInternal, what_ + ": " + e.what());
        }
    }

    std::string name() const override { return "openai:" + settings_.endpoint.provider; }

private:
    static asio::awaitable<Result<PcmPtr>> run(std::shared_ptr<OpenAiTextToSpeech> self,
                                               std::string text) {
        net::HttpRequest http;
        http.method = net::HttpMethod::kPost;
        http.url = self->settings_.endpoint.base_url + "/audio/speech";
        http.body = boost::json::serialize(make_speech_request_body(text, self->settings_.options));
        http.headers = detail::request_headers(self->settings_.endpoint, "application/json",
                                               "audio/wav, audio/*, application/octet-stream");
        http.timeout = self->settings_.timeout;
        http.max_body = kMaxAudioBytes;
        auto response = co_await detail::send_with_retry(
            *self->client_, std::move(http), self->what_, self->settings_.endpoint.api_key);
        if (!response) co_return response.error();
        auto audio =
            decode_speech(response->body, response->content_type(), self->settings_.options);
        if (!audio) {
            co_return make_error(Errc::kUnavailable, self->what_ + ": " + audio.error().message);
        }
        co_return std::move(*audio);
    }

    asio::strand<asio::any_io_executor> strand_;
    const OpenAiSpeechSettings settings_;
    const std::string what_;
    std::unique_ptr<net::HttpClient> client_;  // used on strand_ only
};

}  // namespace

std::shared_ptr<TextToSpeech> make_openai_text_to_speech(asio::any_io_executor executor,
                                                         OpenAiSpeechSettings settings) {
    return std::make_shared<OpenAiTextToSpeech>(std::move(executor), std::move(settings));
}

}  // namespace tl::voice
