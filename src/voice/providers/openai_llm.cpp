// One reply = one coroutine on the provider's strand around HttpClient::send with a body-chunk
// handler: chunks -> SseParser -> ChatStreamDecoder -> the caller's handler. HttpClient reports
// status and headers only once the body is complete, so the chunks are decoded as they come
// whatever the status: an error body (JSON or HTML) holds no `data:` line and yields no event,
// and the status decides afterwards. A reply is stopped (barge-in, timeout, malformed stream)
// by emitting terminal cancellation into the coroutine (Asio per-operation cancellation): the
// pending read fails and the connection is closed, not pooled.

#include "voice/providers/openai_llm.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <exception>
#include <optional>

#include "net/http_client.hpp"
#include "voice/providers/openai_chat_wire.hpp"
#include "voice/providers/provider_errors.hpp"
#include "voice/providers/provider_http.hpp"
#include "voice/providers/sse_parser.hpp"

namespace tl::voice {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// The body kept for the status check and the non-streaming fallback, until the first event
// shows it is a stream.
constexpr std::size_t kMaxKeptBody = std::size_t{1} << 20;

class OpenAiReply final : public ReplyStream, public std::enable_shared_from_this<OpenAiReply> {
public:
    OpenAiReply(asio::strand<asio::any_io_executor> strand, ReplyHandler handler)
        : strand_(std::move(strand)), handler_(std::move(handler)) {}

    void cancel() override {
        if (cancelled_.exchange(true)) return;
        abort();
    }
    bool cancelled() const { return cancelled_.load(); }

    // Stops the request in flight (posted: the strand may be inside the chunk handler now).
    void abort() {
        asio::post(strand_, [self = shared_from_this()] {
            self->signal_.emit(asio::cancellation_type::terminal);
        });
    }
    asio::cancellation_slot slot() { return signal_.slot(); }

    // The handler's callbacks, skipped once cancelled; on the strand.
    void text(std::string_view delta) {
        if (!cancelled() && handler_.on_text) handler_.on_text(delta);
    }
    void tool_call(ToolCall call) {
        if (!cancelled() && handler_.on_tool_call) handler_.on_tool_call(std::move(call));
    }
    void done(Result<FinishReason> result) {
        if (done_) return;
        done_ = true;
        if (!cancelled() && handler_.on_done) handler_.on_done(std::move(result));
        handler_ = {};  // release what the caller captured
    }
    bool is_done() const { return done_; }

private:
    asio::strand<asio::any_io_executor> strand_;
    ReplyHandler handler_;
    asio::cancellation_signal signal_;
    std::atomic<bool> cancelled_{false};
    bool done_ = false;
};

// One attempt's decoding state, shared with the chunk handler and the watchdog timer.
struct Attempt {
    Attempt(const asio::any_io_executor& executor, Clock::time_point deadline)
        : watchdog(executor), deadline(deadline) {}
    SseParser parser;
    ChatStreamDecoder decoder;
    std::string kept;  // the body, until it turns out to be an event stream
    bool saw_event = false;
    bool delivered = false;      // something reached the caller: no retry any more
    std::optional<Error> error;  // malformed stream (the request was aborted for it)
    bool timed_out = false;
    std::chrono::milliseconds timed_out_after{0};
    asio::steady_timer watchdog;
    Clock::time_point deadline;  // first byte, then idle
    std::chrono::milliseconds window{0};
};

class OpenAiLanguageModel final : public LanguageModel,
                                  public std::enable_shared_from_this<OpenAiLanguageModel> {
public:
    OpenAiLanguageModel(asio::any_io_executor executor, OpenAiChatSettings settings)
        : strand_(asio::make_strand(executor)),
          settings_(std::move(settings)),
          what_(detail::describe("LLM", settings_.endpoint.base_url)),
          client_(settings_.endpoint.tls
                      ? std::make_unique<net::HttpClient>(strand_, *settings_.endpoint.tls)
                      : std::make_unique<net::HttpClient>(strand_)) {}

    std::shared_ptr<ReplyStream> reply(ChatRequest request, ReplyHandler handler) override {
        auto stream = std::make_shared<OpenAiReply>(strand_, std::move(handler));
        auto body = boost::json::serialize(make_chat_request_body(request, settings_.options));
        asio::co_spawn(
            strand_, run(shared_from_this(), stream, std::move(body)),
            asio::bind_cancellation_slot(stream->slot(), [stream](std::exception_ptr e) {
                if (!e) return;
                // Not expected (run catches what send throws): never leave the
                // caller waiting.
                stream->done(make_error(Errc::kInternal, "LLM reply failed unexpectedly"));
            }));
        return stream;
    }

    std::string name() const override { return "openai:" + settings_.endpoint.provider; }

private:
    static asio::awaitable<void> run(std::shared_ptr<OpenAiLanguageModel> self,
                                     std::shared_ptr<OpenAiReply> reply,
                                     std::string body) {
        for (int attempt_no = 0;; ++attempt_no) {
            if (reply->cancelled()) co_return;
            auto attempt = std::make_shared<Attempt>(
                self->strand_, Clock::now() + self->settings_.first_byte_timeout);
            attempt->window = self->settings_.first_byte_timeout;
            self->arm_watchdog(reply, attempt);

            net::HttpRequest request;
            request.method = net::HttpMethod::kPost;
            request.url = self->settings_.endpoint.base_url + "/chat/completions";
            request.headers = detail::request_headers(self->settings_.endpoint, "application/json",
                                                      "text/event-stream, application/json");
            request.body = body;
            request.timeout = self->settings_.total_timeout;
            request.max_body = kMaxKeptBody;

            net::BodyChunkHandler on_chunk = [self, reply, attempt](std::string_view chunk) {
                self->on_chunk(reply, attempt, chunk);
            };
            std::optional<net::HttpResult> result;
            try {
                result = co_await self->client_->send(std::move(request), std::move(on_chunk));
            } catch (const std::exception&) {
                // Cancellation emitted between two operations surfaces as an exception.
            }
            attempt->watchdog.cancel();
            if (reply->cancelled() || reply->is_done()) co_return;
            if (attempt->error) {
                reply->done(*attempt->error);
                co_return;
            }
            if (attempt->timed_out) {
                reply->done(make_error(
                    Errc::kUnavailable,
                    fmt::format("{}: timed out: no {} within {} ms", self->what_,
                                attempt->saw_event || !attempt->kept.empty() ? "data" : "reply",
                                attempt->timed_out_after.count())));
                co_return;
            }
            if (!result) {
                reply->done(make_error(Errc::kInternal, self->what_ + ": the request was aborted"));
                co_return;
            }
            const bool may_retry = attempt_no == 0 && !attempt->delivered;
            if (!*result) {
                if (may_retry && detail::retryable(result->error())) {
                    spdlog::info("{}: {}; retrying once", self->what_, result->error().message);
                    if (!co_await self->pause(detail::retry_delay(nullptr))) co_return;
                    continue;
                }
                reply->done(detail::transport_error(self->what_, result->error(),
                                                    self->settings_.total_timeout));
                co_return;
            }
            const auto& response = **result;
            if (response.status < 200 || response.status >= 300) {
                if (may_retry && detail::retryable_status(response.status)) {
                    spdlog::info("{}: HTTP {}; retrying once", self->what_, response.status);
                    if (!co_await self->pause(detail::retry_delay(&response))) co_return;
                    continue;
                }
                reply->done(http_status_error(self->what_, response.status, attempt->kept,
                                              self->settings_.endpoint.api_key));
                co_return;
            }
            self->finish(*reply, *attempt, response);
            co_return;
        }
    }

    // Waits before a retry; false when the reply was cancelled meanwhile.
    asio::awaitable<bool> pause(std::chrono::milliseconds delay) {
        asio::steady_timer timer(strand_, delay);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return !ec;
    }

    // The first-byte and idle timeouts. The chunk handler moves the deadline forward; the timer
    // re-arms itself until the deadline really passed.
    void arm_watchdog(const std::shared_ptr<OpenAiReply>& reply,
                      const std::shared_ptr<Attempt>& attempt) {
        attempt->watchdog.expires_at(attempt->deadline);  // cancels a wait already pending
        attempt->watchdog.async_wait(
            [self = shared_from_this(), reply, attempt](const boost::system::error_code& ec) {
                if (ec) return;  // cancelled: the attempt ended, or re-armed earlier
                if (Clock::now() < attempt->deadline) {
                    self->arm_watchdog(reply, attempt);
                    return;
                }
                attempt->timed_out = true;
                attempt->timed_out_after = attempt->window;
                reply->abort();
            });
    }

    void fail(OpenAiReply& reply, Attempt& attempt, Error error) {
        attempt.error = std::move(error);
        reply.abort();
    }

    void on_chunk(const std::shared_ptr<OpenAiReply>& reply_ptr,
                  const std::shared_ptr<Attempt>& attempt_ptr,
                  std::string_view chunk) {
        auto& reply = *reply_ptr;
        auto& attempt = *attempt_ptr;
        attempt.deadline = Clock::now() + settings_.idle_timeout;
        attempt.window = settings_.idle_timeout;
        // An idle timeout shorter than the first-byte one: the watchdog must wake earlier.
        if (attempt.deadline < attempt.watchdog.expiry()) arm_watchdog(reply_ptr, attempt_ptr);
        if (reply.is_done() || attempt.error || reply.cancelled()) return;  // draining
        if (!attempt.saw_event && attempt.kept.size() < kMaxKeptBody) {
            attempt.kept.append(chunk.substr(0, kMaxKeptBody - attempt.kept.size()));
        }
        auto events = attempt.parser.feed(chunk);
        if (!events)
            return fail(reply, attempt,
                        make_error(Errc::kUnavailable, what_ + ": " + events.error().message));
        for (const auto& event : *events) {
            if (event.type != "message") continue;  // e.g. `event: ping` (none carry replies)
            if (!attempt.saw_event) {
                attempt.saw_event = true;
                attempt.kept.clear();
                attempt.kept.shrink_to_fit();
            }
            auto update = attempt.decoder.on_event(event.data);
            if (!update)
                return fail(reply, attempt,
                            make_error(Errc::kUnavailable, what_ + ": " + update.error().message));
            deliver(reply, attempt, std::move(*update));
            if (reply.is_done()) return;
        }
    }

    void deliver(OpenAiReply& reply, Attempt& attempt, ChatStreamUpdate update) {
        if (!update.text.empty()) {
            attempt.delivered = true;
            reply.text(update.text);
        }
        for (auto& call : update.tool_calls) {
            attempt.delivered = true;
            reply.tool_call(std::move(call));
        }
        if (update.finish) reply.done(*update.finish);
    }

    // A complete 2xx response whose reply is not finished yet.
    void finish(OpenAiReply& reply, Attempt& attempt, const net::HttpResponse& response) {
        const auto type = response.content_type();
        const bool json = type.rfind("application/json", 0) == 0;
        if (json && !attempt.saw_event) {
            auto completion = parse_chat_completion(attempt.kept);
            if (!completion) {
                reply.done(
                    make_error(Errc::kUnavailable, what_ + ": " + completion.error().message));
                return;
            }
            if (!completion->text.empty()) reply.text(completion->text);
            for (auto& call : completion->tool_calls) reply.tool_call(std::move(call));
            reply.done(completion->finish);
            return;
        }
        if (!attempt.saw_event && !json && type.rfind("text/event-stream", 0) != 0) {
            reply.done(make_error(Errc::kUnavailable,
                                  fmt::format("{}: answered '{}' instead of an event stream", what_,
                                              type.substr(0, 100))));
            return;
        }
        auto end = attempt.decoder.end_of_stream();
        if (!end) {
            reply.done(make_error(Errc::kUnavailable, what_ + ": " + end.error().message));
            return;
        }
        deliver(reply, attempt, std::move(*end));
    }

    asio::strand<asio::any_io_executor> strand_;
    const OpenAiChatSettings settings_;
    const std::string what_;
    std::unique_ptr<net::HttpClient> client_;  // used on strand_ only
};

}  // namespace

std::shared_ptr<LanguageModel> make_openai_language_model(asio::any_io_executor executor,
                                                          OpenAiChatSettings settings) {
    return std::make_shared<OpenAiLanguageModel>(std::move(executor), std::move(settings));
}

}  // namespace tl::voice
