// The OpenAI-compatible language model against a fake server speaking the real wire format on
// loopback: streamed text and tool calls split at awkward places, the non-streaming fallback,
// retries, timeouts, malformed streams, cancellation and keep-alive.

#include "voice/providers/openai_llm.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "net/test_certs.hpp"
#include "net/test_server.hpp"
#include "voice/providers/fake_openai_server.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::FakeOpenAiServer;
using testing::FakeReply;
using testing::FakeRequest;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kKey = "sk-test-0123456789abcdef";

// The provider's io_context, run by two threads (callbacks must still come one at a time).
class Io {
public:
    Io() {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~Io() {
        guard_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }
    boost::asio::any_io_executor executor() { return io_.get_executor(); }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
        io_.get_executor()};
    std::vector<std::thread> threads_;
};

// Records a reply's callbacks. The callbacks share the state (a callback may still be returning
// when the test, woken by it, ends).
class Collector {
public:
    struct State {
        std::mutex mutex;
        std::condition_variable changed;
        std::atomic<bool> busy{false};
        std::vector<std::string> texts;
        std::vector<ToolCall> calls;
        std::optional<Result<FinishReason>> result;
        Clock::time_point first_text_at{};
        Clock::time_point done_at{};
        int overlapping = 0;  // callbacks that ran while another was running

        template <class F>
        void record(F&& f) {
            if (busy.exchange(true)) ++overlapping;
            std::this_thread::sleep_for(1ms);  // widen the window an overlap would need
            std::lock_guard lock(mutex);
            f();
            busy = false;
            changed.notify_all();
        }
    };

    ReplyHandler handler() {
        ReplyHandler h;
        h.on_text = [s = state_](std::string_view t) {
            s->record([&] {
                if (s->texts.empty()) s->first_text_at = Clock::now();
                s->texts.emplace_back(t);
            });
        };
        h.on_tool_call = [s = state_](ToolCall c) {
            s->record([&] { s->calls.push_back(std::move(c)); });
        };
        h.on_done = [s = state_](Result<FinishReason> r) {
            s->record([&] {
                s->done_at = Clock::now();
                s->result = std::move(r);
            });
        };
        return h;
    }

    // Waits for on_done; false on timeout. The fields below may be read once it returned true.
    bool wait(std::chrono::milliseconds limit = 5s) {
        std::unique_lock lock(state_->mutex);
        return state_->changed.wait_for(lock, limit, [this] { return state_->result.has_value(); });
    }
    std::size_t text_count() {
        std::lock_guard lock(state_->mutex);
        return state_->texts.size();
    }
    std::string text() const {
        std::lock_guard lock(state_->mutex);
        std::string all;
        for (const auto& t : state_->texts) all += t;
        return all;
    }

private:
    std::shared_ptr<State> state_ = std::make_shared<State>();

public:
    std::vector<std::string>& texts = state_->texts;
    std::vector<ToolCall>& calls = state_->calls;
    std::optional<Result<FinishReason>>& result = state_->result;
    Clock::time_point& first_text_at = state_->first_text_at;
    Clock::time_point& done_at = state_->done_at;
    int& overlapping = state_->overlapping;
};

OpenAiChatSettings settings(const std::string& base_url) {
    OpenAiChatSettings s;
    s.endpoint.provider = "openai_compatible";
    s.endpoint.base_url = base_url;
    s.endpoint.api_key = std::string(kKey);
    s.options.model = "test-model";
    s.options.temperature = 0.2;
    s.first_byte_timeout = 2s;
    s.idle_timeout = 2s;
    s.total_timeout = 10s;
    return s;
}

ChatRequest conversation() {
    ChatRequest r;
    r.messages.push_back({Role::kSystem, "You are the receptionist of Acme.", {}, {}});
    r.messages.push_back({Role::kUser, "I want to talk to sales", {}, {}});
    r.tools.push_back({"transfer_call", "Transfer the caller.",
                       json::parse(R"({"type":"object","properties":{"destination":{"type":"string",
                                   "enum":["+31850000001"]}},"required":["destination"]})")
                           .as_object()});
    return r;
}

std::string chunk_json(const std::string& delta, const std::string& finish = "null") {
    return R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":)" +
           delta + R"(,"finish_reason":)" + finish + "}]}";
}

// The whole SSE stream of a reply that says "Grüß dich! One moment." and calls transfer_call,
// as one string; tests cut it into pieces.
std::string tool_call_stream() {
    std::string s;
    s += ": OPENROUTER PROCESSING\r\n\r\n";
    s += "data: " + chunk_json(R"({"role":"assistant","content":""})") + "\r\n\r\n";
    s += "data: " + chunk_json(R"({"content":"Grüß dich!"})") + "\r\n\r\n";
    s += "data: " + chunk_json(R"({"content":" One moment."})") + "\r\n\r\n";
    s +=
        "data: " +
        chunk_json(
            R"({"tool_calls":[{"index":0,"id":"call_Xy1","type":"function","function":{"name":"transfer_call","arguments":""}}]})") +
        "\r\n\r\n";
    s += "data: " +
         chunk_json(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"desti"}}]})") +
         "\r\n\r\n";
    s += "data: " +
         chunk_json(R"({"tool_calls":[{"index":0,"function":{"arguments":"nation\":\"+3185"}}]})") +
         "\r\n\r\n";
    s += "data: " +
         chunk_json(R"({"tool_calls":[{"index":0,"function":{"arguments":"0000001\"}"}}]})") +
         "\r\n\r\n";
    s += "data: " + chunk_json("{}", R"("tool_calls")") + "\r\n\r\n";
    s += "data: [DONE]\r\n\r\n";
    return s;
}

// `s` cut into pieces at the given offsets.
std::vector<std::string> cut(const std::string& s, std::vector<std::size_t> at) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (auto a : at) {
        out.push_back(s.substr(from, a - from));
        from = a;
    }
    out.push_back(s.substr(from));
    return out;
}

FakeReply sse(std::vector<std::string> chunks) {
    FakeReply r;
    r.content_type = "text/event-stream; charset=utf-8";
    r.chunks = std::move(chunks);
    return r;
}

TEST(OpenAiLlm, StreamsTextAndAToolCallSplitAnywhere) {
    const auto stream = tool_call_stream();
    // Cuts: inside "data:", inside the UTF-8 of "ü" and of "ß", between CR and LF, inside the
    // JSON of the arguments pieces, inside "[DONE]".
    const auto u = stream.find("\xC3\xBC");
    const auto sz = stream.find("\xC3\x9F");
    const auto crlf = stream.find("\r\n\r\ndata: " + chunk_json(R"({"content":" One)"));
    const auto args = stream.find("nation");
    const auto done = stream.find("[DONE]");
    const auto pieces =
        cut(stream, {2, 40, u + 1, sz + 1, crlf + 1, crlf + 3, args + 3, args + 20, done + 3});
    FakeOpenAiServer server([&](const FakeRequest&) { return sse(pieces); });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result) << c.result->error().message;
    EXPECT_EQ(c.result->value(), FinishReason::kToolCalls);
    EXPECT_EQ(c.text(), "Grüß dich! One moment.");
    EXPECT_GE(c.texts.size(), 2u);  // streamed, not gathered
    ASSERT_EQ(c.calls.size(), 1u);
    EXPECT_EQ(c.calls[0].id, "call_Xy1");
    EXPECT_EQ(c.calls[0].name, "transfer_call");
    EXPECT_EQ(c.calls[0].arguments, (json::object{{"destination", "+31850000001"}}));
    EXPECT_EQ(c.overlapping, 0);

    // What the server received.
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& r = requests[0];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/chat/completions");
    EXPECT_EQ(r.header("Authorization"), "Bearer " + std::string(kKey));
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("model"), "test-model");
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("temperature"), 0.2);
    EXPECT_EQ(body.at("messages").as_array().size(), 2u);
    EXPECT_EQ(body.at("messages").as_array()[1].at("content"), "I want to talk to sales");
    EXPECT_EQ(body.at("tools").as_array()[0].at("function").at("name"), "transfer_call");
}

TEST(OpenAiLlm, FirstWordsArriveBeforeTheReplyEnds) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        auto r = sse({"data: " + chunk_json(R"({"content":"Hello."})") + "\n\n",
                      "data: " + chunk_json(R"({"content":" Bye."})", R"("stop")") + "\n\n",
                      "data: [DONE]\n\n"});
        r.chunk_delay = 300ms;
        return r;
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result);
    EXPECT_EQ(c.text(), "Hello. Bye.");
    EXPECT_GE(c.done_at - c.first_text_at, 250ms);
}

TEST(OpenAiLlm, NonStreamingJsonAnswerWorksToo) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        FakeReply r;
        r.body =
            R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Goodbye!","tool_calls":[{"id":"call_1","type":"function","function":{"name":"end_call","arguments":"{}"}}]},"finish_reason":"tool_calls"}]})";
        return r;
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result) << c.result->error().message;
    EXPECT_EQ(c.result->value(), FinishReason::kToolCalls);
    EXPECT_EQ(c.text(), "Goodbye!");
    ASSERT_EQ(c.calls.size(), 1u);
    EXPECT_EQ(c.calls[0].name, "end_call");
}

TEST(OpenAiLlm, SlowServerTimesOutWithoutRetry) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        auto r = sse({"data: " + chunk_json(R"({"content":"late"})", R"("stop")") + "\n\n"});
        r.delay_before_head = 3s;
        return r;
    });
    Io io;
    auto s = settings(server.base_url());
    s.first_byte_timeout = 300ms;
    auto model = make_openai_language_model(io.executor(), s);
    Collector c;
    const auto start = Clock::now();
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_FALSE(*c.result);
    EXPECT_EQ(c.result->error().code, Errc::kUnavailable);
    EXPECT_NE(c.result->error().message.find("timed out: no reply within 300 ms"),
              std::string::npos)
        << c.result->error().message;
    EXPECT_LT(c.done_at - start, 1500ms);
    EXPECT_EQ(server.requests().size(), 1u);
    EXPECT_TRUE(c.texts.empty());
}

TEST(OpenAiLlm, StallMidStreamTimesOut) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        auto r = sse({"data: " + chunk_json(R"({"content":"Let me"})") + "\n\n",
                      "data: " + chunk_json(R"({"content":" see"})", R"("stop")") + "\n\n"});
        r.chunk_delay = 3s;
        return r;
    });
    Io io;
    auto s = settings(server.base_url());
    s.idle_timeout = 300ms;
    auto model = make_openai_language_model(io.executor(), s);
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_FALSE(*c.result);
    EXPECT_NE(c.result->error().message.find("timed out: no data within 300 ms"), std::string::npos)
        << c.result->error().message;
    EXPECT_EQ(c.text(), "Let me");
    EXPECT_LT(c.done_at - c.first_text_at, 1000ms);  // the idle timeout, not the first-byte one
}

TEST(OpenAiLlm, ServerErrorThenSuccessIsRetriedOnce) {
    std::atomic<int> n{0};
    FakeOpenAiServer server([&](const FakeRequest&) {
        if (n++ == 0) {
            FakeReply r;
            r.status = 500;
            r.body =
                R"({"error":{"message":"The server had an error while processing your request."}})";
            return r;
        }
        return sse(
            {"data: " + chunk_json(R"({"content":"Hi!"})", R"("stop")") + "\n\ndata: [DONE]\n\n"});
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result) << c.result->error().message;
    EXPECT_EQ(c.text(), "Hi!");
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST(OpenAiLlm, RateLimitedThenSuccessHonoursRetryAfter) {
    std::atomic<int> n{0};
    FakeOpenAiServer server([&](const FakeRequest&) {
        if (n++ == 0) {
            FakeReply r;
            r.status = 429;
            r.headers = {{"Retry-After", "1"}};
            r.body = R"({"error":{"message":"Rate limit reached"}})";
            return r;
        }
        return sse({"data: " + chunk_json(R"({"content":"Hi!"})", R"("stop")") + "\n\n"});
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    const auto start = Clock::now();
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result) << c.result->error().message;
    EXPECT_GE(c.done_at - start, 950ms);
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST(OpenAiLlm, TwoServerErrorsFailWithTheProvidersSentence) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        FakeReply r;
        r.status = 503;
        r.body = R"({"error":{"message":"Service overloaded","type":"server_error"}})";
        return r;
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_FALSE(*c.result);
    EXPECT_EQ(c.result->error().code, Errc::kUnavailable);
    EXPECT_EQ(c.result->error().message,
              "LLM 127.0.0.1:" + std::to_string(server.port()) +
                  " answered HTTP 503 Service Unavailable: Service overloaded");
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST(OpenAiLlm, RejectedKeyIsNotRetriedNorQuoted) {
    FakeOpenAiServer server([&](const FakeRequest& req) {
        FakeReply r;
        r.status = 401;
        r.body = R"({"error":{"message":"Incorrect API key provided: )" +
                 req.header("Authorization").substr(7) + R"(."}})";
        return r;
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_FALSE(*c.result);
    EXPECT_EQ(c.result->error().code, Errc::kUnauthorized);
    EXPECT_NE(c.result->error().message.find(
                  "HTTP 401 Unauthorized: Incorrect API key provided: [redacted]."),
              std::string::npos)
        << c.result->error().message;
    EXPECT_EQ(c.result->error().message.find(kKey), std::string::npos);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(OpenAiLlm, DroppedConnectionIsRetried) {
    std::atomic<int> n{0};
    FakeOpenAiServer server([&](const FakeRequest&) {
        if (n++ == 0) {
            FakeReply r;
            r.close_without_reply = true;
            return r;
        }
        return sse({"data: " + chunk_json(R"({"content":"ok"})", R"("stop")") + "\n\n"});
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result) << c.result->error().message;
    EXPECT_EQ(c.text(), "ok");
    EXPECT_EQ(server.requests().size(), 2u);
}

TEST(OpenAiLlm, RefusedConnectionFailsClearly) {
    std::string url;
    {
        FakeOpenAiServer gone([](const FakeRequest&) { return FakeReply{}; });
        url = gone.base_url();
    }
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(url));
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_FALSE(*c.result);
    EXPECT_EQ(c.result->error().code, Errc::kUnavailable);
    EXPECT_NE(c.result->error().message.find("connect: connection refused"), std::string::npos)
        << c.result->error().message;
}

TEST(OpenAiLlm, MalformedStreamsFailClearly) {
    struct Case {
        FakeReply reply;
        std::string message;
    };
    std::vector<Case> cases;
    cases.push_back({sse({"data: " + chunk_json(R"({"content":"Hel"})") + "\n\n",
                          "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}\n\n"}),
                     "malformed chat completion reply: an event's data is not JSON"});
    cases.push_back({sse({"data: " + chunk_json(R"({"content":"Hel"})") + "\n\n"}),
                     "ended before the reply was complete"});
    cases.push_back(
        {sse({"data: " +
              chunk_json(
                  R"({"tool_calls":[{"index":0,"id":"c","function":{"name":"x","arguments":"{oops"}}]})",
                  R"("tool_calls")") +
              "\n\n"}),
         "the arguments of tool call 'x' are not a JSON object"});
    FakeReply html;
    html.content_type = "text/html";
    html.body = "<html>proxy login</html>";
    cases.push_back({html, "answered 'text/html' instead of an event stream"});
    FakeReply bad_json;
    bad_json.body = R"({"choices": "none"})";
    cases.push_back({bad_json, "malformed chat completion reply: no choices"});
    for (const auto& c : cases) {
        FakeOpenAiServer server([&](const FakeRequest&) { return c.reply; });
        Io io;
        auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
        Collector col;
        model->reply(conversation(), col.handler());
        ASSERT_TRUE(col.wait());
        ASSERT_FALSE(*col.result) << c.message;
        EXPECT_EQ(col.result->error().code, Errc::kUnavailable);
        EXPECT_NE(col.result->error().message.find(c.message), std::string::npos)
            << col.result->error().message;
        EXPECT_EQ(server.requests().size(), 1u);
    }
}

TEST(OpenAiLlm, CancelStopsCallbacksAndClosesTheConnection) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        std::vector<std::string> chunks;
        for (int i = 0; i < 40; ++i) {
            chunks.push_back("data: " + chunk_json(R"({"content":"word "})") + "\n\n");
        }
        chunks.push_back("data: " + chunk_json("{}", R"("stop")") + "\n\n");
        auto r = sse(chunks);
        r.chunk_delay = 50ms;
        return r;
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    Collector c;
    auto stream = model->reply(conversation(), c.handler());
    const auto start = Clock::now();
    while (Clock::now() - start < 3s) {
        if (c.text_count() > 0) break;
        std::this_thread::sleep_for(5ms);
    }
    stream->cancel();
    stream->cancel();  // idempotent
    const std::size_t seen_at_cancel = c.text_count();
    ASSERT_GE(seen_at_cancel, 1u);
    // The server's next writes fail: the connection was closed.
    while (server.aborted_writes() == 0 && Clock::now() - start < 3s)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server.aborted_writes(), 1);
    EXPECT_FALSE(c.wait(300ms));                    // on_done never comes
    EXPECT_LE(c.text_count(), seen_at_cancel + 1);  // at most one already running
}

TEST(OpenAiLlm, ConnectionIsKeptAliveAcrossReplies) {
    FakeOpenAiServer server([&](const FakeRequest&) {
        return sse({"data: " + chunk_json(R"({"content":"A"})", R"("stop")") + "\n\n",
                    "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n",
                    "data: [DONE]\n\n"});
    });
    Io io;
    auto model = make_openai_language_model(io.executor(), settings(server.base_url()));
    for (int i = 0; i < 3; ++i) {
        Collector c;
        model->reply(conversation(), c.handler());
        ASSERT_TRUE(c.wait());
        ASSERT_TRUE(*c.result);
        EXPECT_EQ(c.text(), "A");
        // on_done came with the finish chunk; the rest of the stream drains before the next
        // request can reuse the connection.
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(server.requests().size(), 3u);
    EXPECT_EQ(server.connections(), 1);
}

TEST(OpenAiLlm, StreamsOverHttpsWithTheConfiguredCa) {
    net::testing::TestCa ca;
    const auto cert = ca.issue("llm", "DNS:localhost,IP:127.0.0.1");
    net::testing::TestServer server(cert, [](const net::testing::ServedRequest&) {
        net::testing::Reply r;
        r.headers = {{"Content-Type", "text/event-stream"}};
        r.chunks = {"data: " + chunk_json(R"({"content":"Secure"})") + "\n\n",
                    "data: " + chunk_json(R"({"content":" hello."})", R"("stop")") + "\n\n",
                    "data: [DONE]\n\n"};
        return r;
    });
    Io io;
    auto s = settings(server.url("/v1", "localhost"));
    auto tls = net::TlsClientContext::create(ca.ca_file());
    ASSERT_TRUE(tls) << tls.error().message;
    s.endpoint.tls = *tls;
    auto model = make_openai_language_model(io.executor(), s);
    Collector c;
    model->reply(conversation(), c.handler());
    ASSERT_TRUE(c.wait());
    ASSERT_TRUE(*c.result) << c.result->error().message;
    EXPECT_EQ(c.text(), "Secure hello.");
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].target, "/v1/chat/completions");
    EXPECT_EQ(requests[0].server_name, "localhost");

    // Without the CA, the system store does not trust the server: a clear TLS error.
    auto untrusted = settings(server.url("/v1", "localhost"));
    auto refused = make_openai_language_model(io.executor(), untrusted);
    Collector d;
    refused->reply(conversation(), d.handler());
    ASSERT_TRUE(d.wait());
    ASSERT_FALSE(*d.result);
    EXPECT_EQ(d.result->error().code, Errc::kUnavailable);
    EXPECT_NE(d.result->error().message.find("TLS certificate rejected"), std::string::npos)
        << d.result->error().message;
}

}  // namespace
}  // namespace tl::voice
