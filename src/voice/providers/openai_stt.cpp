#include "voice/providers/openai_stt.hpp"

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <exception>

#include "net/http_client.hpp"
#include "voice/providers/openai_audio_wire.hpp"
#include "voice/providers/provider_http.hpp"

namespace tl::voice {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kMaxSamples = 8000 * 600;  // 10 minutes at 8 kHz

class Pending final : public PendingTranscription, public std::enable_shared_from_this<Pending> {
public:
    Pending(asio::strand<asio::any_io_executor> strand, SpeechToText::Done done)
        : strand_(std::move(strand)), done_(std::move(done)) {}

    void cancel() override {
        if (cancelled_.exchange(true)) return;
        asio::post(strand_, [self = shared_from_this()] {
            self->signal_.emit(asio::cancellation_type::terminal);
        });
    }
    asio::cancellation_slot slot() { return signal_.slot(); }

    // On the strand; at most once.
    void finish(Result<std::string> result) {
        auto done = std::move(done_);
        done_ = {};
        if (!cancelled_.load() && done) done(std::move(result));
    }

private:
    asio::strand<asio::any_io_executor> strand_;
    SpeechToText::Done done_;
    asio::cancellation_signal signal_;
    std::atomic<bool> cancelled_{false};
};

class OpenAiSpeechToText final : public SpeechToText,
                                 public std::enable_shared_from_this<OpenAiSpeechToText> {
public:
    OpenAiSpeechToText(asio::any_io_executor executor, OpenAiTranscriptionSettings settings)
        : strand_(asio::make_strand(executor)),
          settings_(std::move(settings)),
          what_(detail::describe("STT", settings_.endpoint.base_url)),
          client_(settings_.endpoint.tls
                      ? std::make_unique<net::HttpClient>(strand_, *settings_.endpoint.tls)
                      : std::make_unique<net::HttpClient>(strand_)) {}

    std::shared_ptr<PendingTranscription> transcribe(TranscriptionRequest request,
                                                     Done done) override {
        auto pending = std::make_shared<Pending>(strand_, std::move(done));
        if (!request.audio || request.audio->empty() || request.audio->size() > kMaxSamples) {
            asio::post(strand_, [pending] {
                pending->finish(make_error(Errc::kInvalidRequest,
                                           "STT: the utterance must hold 1 sample to 10 minutes "
                                           "of 8 kHz audio"));
            });
            return pending;
        }
        asio::co_spawn(
            strand_, run(shared_from_this(), pending, std::move(request)),
            asio::bind_cancellation_slot(pending->slot(), [pending](std::exception_ptr e) {
                if (e) pending->finish(make_error(Errc::kUnavailable, "STT: cancelled"));
            }));
        return pending;
    }

    std::string name() const override { return "openai:" + settings_.endpoint.provider; }

private:
    static asio::awaitable<void> run(std::shared_ptr<OpenAiSpeechToText> self,
                                     std::shared_ptr<Pending> pending,
                                     TranscriptionRequest request) {
        auto options = self->settings_.options;
        if (!request.language.empty()) options.language = request.language;
        auto form = make_transcription_form(*request.audio, options);
        net::HttpRequest http;
        http.method = net::HttpMethod::kPost;
        http.url = self->settings_.endpoint.base_url + "/audio/transcriptions";
        http.body = form.finish();
        http.headers = detail::request_headers(self->settings_.endpoint, form.content_type(),
                                               "application/json");
        http.timeout = self->settings_.timeout;
        auto response = co_await detail::send_with_retry(
            *self->client_, std::move(http), self->what_, self->settings_.endpoint.api_key);
        if (!response) {
            pending->finish(response.error());
            co_return;
        }
        auto text = parse_transcription(response->body, response->content_type());
        if (!text) {
            pending->finish(
                make_error(Errc::kUnavailable, self->what_ + ": " + text.error().message));
            co_return;
        }
        pending->finish(std::move(*text));
    }

    asio::strand<asio::any_io_executor> strand_;
    const OpenAiTranscriptionSettings settings_;
    const std::string what_;
    std::unique_ptr<net::HttpClient> client_;  // used on strand_ only
};

}  // namespace

std::shared_ptr<SpeechToText> make_openai_speech_to_text(asio::any_io_executor executor,
                                                         OpenAiTranscriptionSettings settings) {
    return std::make_shared<OpenAiSpeechToText>(std::move(executor), std::move(settings));
}

}  // namespace tl::voice
