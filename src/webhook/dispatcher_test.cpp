// The dispatcher against a real local HTTP receiver (test_receiver.hpp) and a real SQLite store.

#include "common/temp_dir.hpp"
#include "webhook/dispatcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "net/test_certs.hpp"
#include "net/test_server.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "webhook/payloads.hpp"
#include "webhook/test_receiver.hpp"

namespace tl::webhook {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Received;
using testing::TestReceiver;

constexpr const char* kOrg = "org-1";
constexpr const char* kSecret = "whsec_test_secret_12345";

// Every TempDir of this file is named tl_webhook_*.
class TempDir : public tl::TempDir {
public:
    TempDir() : tl::TempDir("tl_webhook") {}
};

// An io_context served by one thread until the runner is destroyed or crash() is called.
class IoRunner {
public:
    IoRunner() : guard_(io.get_executor()), thread_([this] { io.run(); }) {}
    ~IoRunner() { crash(); }
    // Stops the loop at once: pending handlers never run (what a SIGKILL leaves behind).
    void crash() {
        if (!thread_.joinable()) return;
        guard_.reset();
        io.stop();
        thread_.join();
    }
    boost::asio::io_context io;

private:
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

class DispatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = store::open_sqlite_store(dir_.path() / "trunkline.db");
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrg, "Org", "2025-01-01T00:00:00.000Z")));
        store::SecretBox::Key key;
        key.bytes.assign(32, 7);
        box_.emplace(store::SecretBox::from_keys({key}).value());
        config_.base_backoff = 10ms;
        config_.max_backoff = 40ms;
        config_.poll_interval = 20ms;
        config_.request_timeout = 2s;
        config_.stop_timeout = 5s;
        config_.jitter_seed = 42;
    }

    // A delivery whose payload carries `tag` (message.tag) so the receiver can tell them apart.
    store::WebhookDelivery delivery(const std::string& tag,
                                    std::optional<std::string> call_id,
                                    const std::string& url,
                                    bool signed_ = true) {
        store::WebhookDelivery d;
        d.id = "d-" + tag;
        d.org_id = kOrg;
        d.call_id = std::move(call_id);
        d.event = std::string(kStatusUpdate);
        d.url = url;
        d.payload_json = R"({"message":{"type":"status-update","tag":")" + tag + R"("}})";
        if (signed_) d.secret_sealed = box_->seal(kSecret);
        // Strictly increasing created_at keeps the intended order explicit.
        d.created_at = format_iso8601(base_time_ + std::chrono::milliseconds(sequence_++));
        d.updated_at = d.created_at;
        d.next_attempt_at = d.created_at;
        return d;
    }
    void enqueue(const store::WebhookDelivery& d) { ASSERT_TRUE(store_->enqueue_delivery(d)); }

    store::WebhookDelivery get(const std::string& tag) {
        return store_->get_delivery(kOrg, "d-" + tag).value();
    }

    bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 20s) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            if (pred()) return true;
            std::this_thread::sleep_for(10ms);
        }
        return pred();
    }

    std::uint64_t counter(const std::string& result) {
        return registry_
            .counter("trunkline_webhook_deliveries_total", "Webhook delivery attempts by outcome.",
                     {{"result", result}})
            .value();
    }

    TempDir dir_;
    std::unique_ptr<store::Store> store_;
    std::optional<store::SecretBox> box_;
    metrics::Registry registry_;
    Dispatcher::Config config_;
    int sequence_ = 0;
    const SystemTime base_time_ = std::chrono::system_clock::now() - 1s;
};

TEST_F(DispatcherTest, DeliversSignedRequestsWithTheDocumentedHeaders) {
    TestReceiver signed_rx(kSecret);
    TestReceiver plain_rx("");
    enqueue(delivery("s1", "call-1", signed_rx.url()));
    enqueue(delivery("s2", "call-1", signed_rx.url()));
    enqueue(delivery("s3", "call-1", signed_rx.url()));
    enqueue(delivery("p1", std::nullopt, plain_rx.url("/plain?x=1"), false));

    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(signed_rx.wait_until([](auto& r) { return r.size() == 3; }));
    ASSERT_TRUE(plain_rx.wait_until([](auto& r) { return r.size() == 1; }));
    ASSERT_TRUE(eventually([&] { return counter("delivered") == 4; }));
    dispatcher.stop();

    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    auto got = signed_rx.received();
    for (std::size_t i = 0; i < got.size(); ++i) {
        const Received& r = got[i];
        EXPECT_EQ(r.delivery_tag, "s" + std::to_string(i + 1));
        EXPECT_TRUE(r.signature_ok) << r.signature;
        EXPECT_EQ(r.event, "status-update");
        EXPECT_EQ(r.user_agent, "HMS-Sovereign/1.0");
        EXPECT_EQ(r.content_type, "application/json");
        EXPECT_EQ(r.target, "/hook");
        EXPECT_LE(std::abs(std::stoll(r.timestamp) - now_s), 30);
        EXPECT_EQ(r.body, get(r.delivery_tag).payload_json);
        // Keep-alive: one connection carried all three.
        EXPECT_EQ(r.connection, got[0].connection);
    }
    auto plain = plain_rx.received().at(0);
    EXPECT_TRUE(plain.signature.empty());
    EXPECT_TRUE(plain.signature_ok);
    EXPECT_EQ(plain.target, "/plain?x=1");

    auto s1 = get("s1");
    EXPECT_EQ(s1.status, "delivered");
    EXPECT_EQ(s1.attempts, 1);
    EXPECT_EQ(s1.last_status_code, 200);
    EXPECT_TRUE(s1.delivered_at.has_value());
    EXPECT_EQ(store_->count_pending_deliveries().value(), 0);
}

TEST_F(DispatcherTest, ServerErrorsAreRetriedWithBackoffUntilDelivered) {
    TestReceiver rx(kSecret);
    int calls = 0;
    rx.respond_with([&](const Received&) { return ++calls <= 3 ? 500 : 200; });
    enqueue(delivery("r1", "call-1", rx.url()));

    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return get("r1").status == "delivered"; }));
    dispatcher.stop();
    auto d = get("r1");
    EXPECT_EQ(d.attempts, 4);
    EXPECT_EQ(d.last_status_code, 200);
    EXPECT_EQ(counter("failed"), 3u);
    EXPECT_EQ(counter("delivered"), 1u);
    for (const auto& r : rx.received()) EXPECT_TRUE(r.signature_ok);
}

TEST_F(DispatcherTest, ReceiverDownThenUpIsDelivered) {
    unsigned short port = 0;
    {
        TestReceiver probe("");
        port = probe.port();
    }  // closed: connections to `port` are refused now
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    enqueue(delivery("u1", "call-1", url));

    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return get("u1").attempts >= 3; }));
    auto down = get("u1");
    EXPECT_NE(down.status, "dead");
    ASSERT_TRUE(down.last_error.has_value());
    EXPECT_NE(down.last_error->find("refused"), std::string::npos) << *down.last_error;
    EXPECT_FALSE(down.last_status_code.has_value());

    TestReceiver rx(kSecret, port);
    ASSERT_TRUE(eventually([&] { return get("u1").status == "delivered"; }));
    dispatcher.stop();
    ASSERT_EQ(rx.received().size(), 1u);
    EXPECT_TRUE(rx.received()[0].signature_ok);
}

TEST_F(DispatcherTest, ClientErrorsAreDeadAtOnceButTooManyRequestsIsRetried) {
    TestReceiver rx(kSecret);
    int busy = 0;
    rx.respond_with([&](const Received& r) {
        if (r.target == "/gone") return 404;
        if (r.target == "/busy") return ++busy == 1 ? 429 : 200;
        return 200;
    });
    enqueue(delivery("g1", "call-1", rx.url("/gone")));
    enqueue(delivery("g2", "call-1", rx.url("/busy")));
    enqueue(delivery("h1", std::nullopt, "ftp://example.invalid/hook"));

    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return get("g2").status == "delivered"; }));
    ASSERT_TRUE(eventually([&] { return get("h1").status == "dead"; }));
    dispatcher.stop();
    auto gone = get("g1");
    EXPECT_EQ(gone.status, "dead");
    EXPECT_EQ(gone.attempts, 1);
    EXPECT_EQ(gone.last_status_code, 404);
    EXPECT_EQ(get("g2").attempts, 2);
    EXPECT_NE(get("h1").last_error->find("scheme 'ftp'"), std::string::npos);
    EXPECT_EQ(counter("dead"), 2u);

    // A dead letter can be retried: it goes out again (and is still rejected here).
    ASSERT_TRUE(store_->retry_delivery(kOrg, "d-g1", now_iso8601()));
    EXPECT_EQ(get("g1").status, "pending");
}

TEST_F(DispatcherTest, GivesUpAfterMaxAge) {
    TestReceiver rx(kSecret);
    rx.respond_with([](const Received&) { return 503; });
    config_.max_age = 1s;
    auto d = delivery("old", "call-1", rx.url());
    d.created_at = "2023-11-14T22:13:20.000Z";
    d.next_attempt_at = d.created_at;
    enqueue(d);
    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    // created_at is in 2023: older than max_age, so the first retryable failure is final.
    ASSERT_TRUE(eventually([&] { return get("old").status == "dead"; }));
    dispatcher.stop();
    EXPECT_EQ(get("old").attempts, 1);
    EXPECT_NE(get("old").last_error->find("gave up"), std::string::npos);
}

TEST_F(DispatcherTest, KeepsPerCallOrderAcrossRetries) {
    TestReceiver rx(kSecret);
    std::map<std::string, int> seen;
    rx.respond_with([&](const Received& r) {
        // The first event of each call fails twice, the second once.
        int n = ++seen[r.delivery_tag];
        if (r.delivery_tag.ends_with("-1")) return n <= 2 ? 500 : 200;
        if (r.delivery_tag.ends_with("-2")) return n <= 1 ? 502 : 200;
        return 200;
    });
    const std::vector<std::string> calls = {"a", "b", "c"};
    for (int i = 1; i <= 4; ++i) {
        for (const auto& c : calls) enqueue(delivery(c + "-" + std::to_string(i), c, rx.url()));
    }
    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return counter("delivered") == 12; }));
    dispatcher.stop();

    for (const auto& c : calls) {
        // In the receiver's log, event i+1 of a call never appears before event i got its 200.
        int acknowledged = 0;
        for (const auto& r : rx.received()) {
            if (!r.delivery_tag.starts_with(c + "-")) continue;
            const int index = std::stoi(r.delivery_tag.substr(c.size() + 1));
            EXPECT_EQ(index, acknowledged + 1) << "call " << c << " got " << r.delivery_tag;
            if (r.status == 200) acknowledged = index;
        }
        EXPECT_EQ(acknowledged, 4);
    }
}

TEST_F(DispatcherTest, CrashMidwayThenRestartDeliversAllFifty) {
    TestReceiver rx(kSecret);
    rx.respond_with([](const Received&) {
        std::this_thread::sleep_for(5ms);  // slow enough to crash in the middle
        return 200;
    });
    for (int i = 0; i < 50; ++i) {
        // Five calls of ten events each, plus per-call ordering on the way.
        enqueue(delivery("m" + std::to_string(i), "call-" + std::to_string(i % 5), rx.url()));
    }
    {
        IoRunner runner;
        Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
        dispatcher.start();
        ASSERT_TRUE(rx.wait_until([](auto& r) { return r.size() >= 10; }));
        runner.crash();  // no stop(): in-flight deliveries are left `delivering`
    }
    ASSERT_LT(rx.received().size(), 50u);
    ASSERT_TRUE(store_->reset_stuck_deliveries(now_iso8601()));
    {
        IoRunner runner;
        Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
        dispatcher.start();
        ASSERT_TRUE(rx.wait_until([](const std::vector<Received>& r) {
            std::set<std::string> tags;
            for (const auto& x : r) tags.insert(x.delivery_tag);
            return tags.size() == 50;
        }));
        ASSERT_TRUE(eventually([&] { return store_->count_pending_deliveries().value() == 0; }));
        dispatcher.stop();
    }
    for (int i = 0; i < 50; ++i) EXPECT_EQ(get("m" + std::to_string(i)).status, "delivered");
    for (const auto& r : rx.received()) EXPECT_TRUE(r.signature_ok);
}

TEST_F(DispatcherTest, DeliversToHttpsUrlsOverOneVerifiedConnection) {
    net::testing::TestCa ca;
    net::testing::TestServer rx(
        ca.issue("localhost", "DNS:localhost"),
        [](const net::testing::ServedRequest&) { return net::testing::Reply{}; });
    config_.tls = net::TlsClientContext::create(ca.ca_file()).value();
    enqueue(delivery("t1", "call-1", rx.url("/hook", "localhost")));
    enqueue(delivery("t2", "call-1", rx.url("/hook", "localhost")));

    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return get("t2").status == "delivered"; }));
    dispatcher.stop();
    auto got = rx.requests();
    ASSERT_EQ(got.size(), 2u);
    for (const auto& r : got) {
        const auto ts = r.header("X-Webhook-Timestamp");
        EXPECT_EQ(r.header("X-Webhook-Signature"),
                  "sha256=" + testing::hmac_sha256_hex(kSecret, ts + "." + r.body));
        EXPECT_EQ(r.server_name, "localhost");
        EXPECT_EQ(r.connection, got[0].connection);  // kept alive over TLS
    }
    EXPECT_EQ(get("t1").status, "delivered");
}

TEST_F(DispatcherTest, AnUntrustedHttpsReceiverIsRetriedWithTheReasonRecorded) {
    net::testing::TestCa ca;
    net::testing::TestServer rx(ca.issue("localhost", "DNS:localhost"), {});
    enqueue(delivery("u1", "call-1", rx.url("/hook", "localhost")));  // the system store only

    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return get("u1").attempts >= 2; }));
    dispatcher.stop();
    auto d = get("u1");
    EXPECT_EQ(d.status, "pending");
    ASSERT_TRUE(d.last_error.has_value());
    EXPECT_NE(d.last_error->find("TLS certificate rejected"), std::string::npos) << *d.last_error;
    EXPECT_TRUE(rx.requests().empty());
}

// What tests/sip/test_webhooks.py once saw: a dead letter retried through the API was claimed
// just as its receiver stopped answering (a socket still listening, nobody accepting: connect
// succeeds, no response ever comes). stop() did not cancel that request, so it waited for it
// until its own timeout (2 s in serve) although request_timeout was longer still.
TEST_F(DispatcherTest, StopIsPromptWhileARetriedDeadLetterWaitsOnASilentReceiver) {
    boost::asio::io_context never_run;
    boost::asio::ip::tcp::acceptor silent(never_run,
                                          {boost::asio::ip::make_address("127.0.0.1"), 0});
    const std::string url =
        "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/hook";
    auto dead = delivery("late", "call-1", url);
    dead.status = "dead";
    dead.attempts = 1;
    dead.last_status_code = 404;
    enqueue(dead);
    ASSERT_TRUE(store_->retry_delivery(kOrg, "d-late", now_iso8601()));

    config_.request_timeout = 10s;
    config_.stop_timeout = 5s;
    config_.stop_grace = 50ms;
    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return get("late").status == "delivering"; }));
    std::this_thread::sleep_for(50ms);  // connected; waiting for an answer that never comes

    const auto start = std::chrono::steady_clock::now();
    dispatcher.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 200ms);
    auto after = get("late");
    EXPECT_EQ(after.status, "pending");  // sent again after the next start
    EXPECT_EQ(after.attempts, 2);
    EXPECT_EQ(after.last_error, "interrupted by shutdown");
}

TEST_F(DispatcherTest, StopLetsADeliveryInFlightFinishWithinTheGrace) {
    TestReceiver rx(kSecret);
    std::atomic<bool> answering{false};
    rx.respond_with([&](const Received&) {
        answering = true;
        std::this_thread::sleep_for(150ms);
        return 200;
    });
    enqueue(delivery("slow", "call-1", rx.url()));
    config_.stop_grace = 2s;
    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return answering.load(); }));
    const auto start = std::chrono::steady_clock::now();
    dispatcher.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);  // not the 2 s grace: it finished
    EXPECT_EQ(get("slow").status, "delivered");
    EXPECT_EQ(get("slow").attempts, 1);
}

TEST_F(DispatcherTest, StopReleasesClaimedButUnsentDeliveriesUncounted) {
    TestReceiver rx(kSecret);
    std::atomic<bool> answering{false};
    rx.respond_with([&](const Received&) {
        answering = true;
        std::this_thread::sleep_for(100ms);
        return 200;
    });
    for (int i = 0; i < 5; ++i) enqueue(delivery("q" + std::to_string(i), std::nullopt, rx.url()));
    config_.concurrency = 1;  // one in flight, the other four claimed ahead and waiting
    config_.claim_batch = 8;
    IoRunner runner;
    Dispatcher dispatcher(runner.io, *store_, *box_, registry_, config_);
    dispatcher.start();
    ASSERT_TRUE(eventually([&] { return answering.load(); }));
    EXPECT_EQ(get("q4").status, "delivering");  // claimed with the first
    dispatcher.stop();
    EXPECT_EQ(get("q0").status, "delivered");
    for (int i = 1; i < 5; ++i) {
        auto d = get("q" + std::to_string(i));
        EXPECT_EQ(d.status, "pending") << d.id;
        EXPECT_EQ(d.attempts, 0) << d.id;  // never sent: no attempt counted
    }
    EXPECT_EQ(rx.received().size(), 1u);
}

TEST(Backoff, ExponentialWithFullJitterAndCap) {
    using std::chrono::milliseconds;
    EXPECT_EQ(backoff_delay(0, 1000ms, 600000ms, 0.999999).count(), 999);
    EXPECT_EQ(backoff_delay(3, 1000ms, 600000ms, 0.5).count(), 4000);
    EXPECT_EQ(backoff_delay(30, 1000ms, 600000ms, 1.0).count(), 600000);
    EXPECT_EQ(backoff_delay(1000, 1000ms, 600000ms, 0.5).count(), 300000);
    EXPECT_EQ(backoff_delay(2, 1000ms, 600000ms, 0.0).count(), 0);
}

}  // namespace
}  // namespace tl::webhook
