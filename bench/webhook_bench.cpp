// Webhook delivery benchmark (not a test): docs/benchmarks.md, run by bench/webhooks.sh.
//
// One process, three phases against the same loopback receiver (its own thread, pinned to its
// own CPU), each with N events:
//   baseline  net::HttpClient alone: `concurrency` keep-alive request loops with the same
//             requests the dispatcher sends, no store, no signing: the ceiling of the transport
//   burst     N deliveries enqueued into the real SQLite outbox (Store::enqueue_delivery) as fast
//             as it takes them while the real webhook::Dispatcher (serve's configuration) sends
//             them: deliveries/s and enqueue-to-delivery latency under a backlog
//   paced     N deliveries enqueued at a steady rate below capacity: enqueue-to-delivery latency
//             of an outbox that keeps up (what a call's webhook waits)
// The sender side (dispatcher or baseline io thread, and the enqueuing main thread) runs on one
// CPU, the receiver on another.

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "common/temp_dir.hpp"
#include "loopback_receiver.hpp"
#include "net/http_client.hpp"
#include "store/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "webhook/dispatcher.hpp"

namespace tl::bench {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
    int events = 10'000;
    int rate = 1'000;  // paced phase, events/s
    int concurrency = 8;
    int sender_cpu = 0;
    int receiver_cpu = 1;
    std::chrono::milliseconds poll_interval{200};  // the dispatcher's default
};

std::optional<Options> parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        int value = 0;
        const std::string_view text = argv[i + 1];
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
        if (key == "--events")
            o.events = value;
        else if (key == "--rate")
            o.rate = value;
        else if (key == "--concurrency")
            o.concurrency = value;
        else if (key == "--sender-cpu")
            o.sender_cpu = value;
        else if (key == "--receiver-cpu")
            o.receiver_cpu = value;
        else if (key == "--poll-interval-ms")
            o.poll_interval = std::chrono::milliseconds(value);
        else
            return std::nullopt;
    }
    if (argc % 2 == 0 || o.events < 1 || o.rate < 1 || o.concurrency < 1) return std::nullopt;
    return o;
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

// When each event of one phase first reached the receiver (written by the receiver thread).
class Receipts {
public:
    explicit Receipts(int n) : at_(static_cast<std::size_t>(n)) {}

    void record(int index) {
        if (index < 0 || static_cast<std::size_t>(index) >= at_.size()) return;
        std::int64_t none = 0;
        if (at_[static_cast<std::size_t>(index)].compare_exchange_strong(none, now_ns())) {
            count_.fetch_add(1);
        }
    }
    bool wait_all(std::chrono::seconds limit) const {
        const auto end = Clock::now() + limit;
        while (count_.load() < static_cast<int>(at_.size())) {
            if (Clock::now() > end) return false;
            std::this_thread::sleep_for(1ms);
        }
        return true;
    }
    std::int64_t at(int index) const { return at_[static_cast<std::size_t>(index)].load(); }
    std::int64_t last() const {
        std::int64_t latest = 0;
        for (const auto& t : at_) latest = std::max(latest, t.load());
        return latest;
    }
    int count() const { return count_.load(); }

private:
    std::vector<std::atomic<std::int64_t>> at_;
    std::atomic<int> count_{0};
};

// Events carry "tag":"<phase letter><index>" so the receiver can time them.
std::string payload(char phase, int index) {
    // About the size of a real status-update with a small assistant object (~1 KiB).
    static const std::string padding(640, 'x');
    return R"({"message":{"type":"status-update","tag":")" + std::string(1, phase) +
           std::to_string(index) +
           R"(","timestamp":"2026-01-01T00:00:00.000Z","call":{"id":"0b9e7c1e-8f0a-4c47-9a65-)"
           R"(6f0c2e0d7a11","type":"inbound_phone_call","status":"in-progress"},"phone_number":)"
           R"({"id":"5c4d030f-0000-4000-8000-000000000001","number":"+31850835037","name":null},)"
           R"("customer":{"number":"+31612345678"},"assistant":{"name":"Support","notes":")" +
           padding + R"("}}})";
}

std::optional<std::pair<char, int>> tag_of(std::string_view body) {
    constexpr std::string_view kKey = R"("tag":")";
    const auto at = body.find(kKey);
    if (at == std::string_view::npos || at + kKey.size() + 1 >= body.size()) return std::nullopt;
    const char phase = body[at + kKey.size()];
    const char* first = body.data() + at + kKey.size() + 1;
    int index = 0;
    auto [end, ec] = std::from_chars(first, body.data() + body.size(), index);
    if (ec != std::errc()) return std::nullopt;
    return std::pair{phase, index};
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(i, values.size() - 1)];
}

struct PhaseResult {
    double per_second = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
    int errors = 0;
};

void print(const char* name, const PhaseResult& r, const char* unit) {
    std::printf("%-44s %10.0f %s/s   p50 %8.2f ms   p99 %8.2f ms   max %8.2f ms   errors %d\n",
                name, r.per_second, unit, r.p50_ms, r.p99_ms, r.max_ms, r.errors);
}

PhaseResult summarise(const std::vector<double>& latencies_ms, int n, double seconds, int errors) {
    return {n / seconds, percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.99),
            percentile(latencies_ms, 1.0), errors};
}

std::vector<std::pair<std::string, std::string>> delivery_headers() {
    // What the dispatcher sends, with a fixed signature: same bytes on the wire, no HMAC.
    return {{"Content-Type", "application/json"},
            {"X-Webhook-Event", "status-update"},
            {"X-Webhook-Timestamp", "1767225600"},
            {"User-Agent", "HMS-Sovereign/1.0"},
            {"X-Webhook-Signature", "sha256=" + std::string(64, '0')}};
}

// The transport alone: `concurrency` loops of POSTs over keep-alive connections.
PhaseResult run_baseline(const Options& o, const std::string& url, const Receipts& receipts) {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    net::HttpClient client(strand);
    int next = 0;
    int errors = 0;
    std::vector<double> latency_ms(static_cast<std::size_t>(o.events));
    const auto start = now_ns();
    for (int c = 0; c < o.concurrency; ++c) {
        asio::co_spawn(
            strand,
            [&]() -> asio::awaitable<void> {
                while (next < o.events) {
                    const int i = next++;
                    net::HttpRequest request;
                    request.url = url;
                    request.headers = delivery_headers();
                    request.body = payload('b', i);
                    const auto sent = now_ns();
                    auto r = co_await client.post(std::move(request));
                    latency_ms[static_cast<std::size_t>(i)] = (now_ns() - sent) / 1e6;
                    if (!r || r->status != 200) ++errors;
                }
            },
            asio::detached);
    }
    std::thread sender([&] {
        pin_this_thread(o.sender_cpu);
        io.run();
    });
    sender.join();
    receipts.wait_all(60s);
    return summarise(latency_ms, o.events, (receipts.last() - start) / 1e9, errors);
}

// The outbox: N deliveries enqueued, then paced ones, through the real store and dispatcher.
struct OutboxResults {
    PhaseResult burst;
    double enqueue_per_second = 0;
    double drained_seconds = 0;  // until the store had recorded every burst delivery
    PhaseResult paced;
};

store::WebhookDelivery make_delivery(char phase,
                                     int index,
                                     const std::string& url,
                                     const store::SecretBox& box,
                                     const std::string& sealed_secret) {
    store::WebhookDelivery d;
    d.id = std::string(1, phase) + "-" + std::to_string(index);
    d.org_id = "org-bench";
    d.call_id = std::string(1, phase) + "-call-" + std::to_string(index / 3);  // 3 events a call
    d.event = "status-update";
    d.url = url;
    d.payload_json = payload(phase, index);
    d.secret_sealed = sealed_secret;
    d.created_at = now_iso8601();
    d.updated_at = d.created_at;
    d.next_attempt_at = d.created_at;
    return d;
}

std::optional<OutboxResults> run_outbox(const Options& o,
                                        const std::string& url,
                                        const Receipts& burst,
                                        const Receipts& paced) {
    TempDir dir("tl_webhook_bench");
    auto opened = store::open_sqlite_store(dir.path() / "trunkline.db");
    if (!opened) {
        std::fprintf(stderr, "store: %s\n", opened.error().message.c_str());
        return std::nullopt;
    }
    auto& store = **opened;
    store::Organization org;
    org.id = "org-bench";
    org.name = "bench";
    org.created_at = now_iso8601();
    if (!store.create_organization(org)) return std::nullopt;
    store::SecretBox::Key key;
    key.bytes.assign(32, 42);
    auto box = store::SecretBox::from_keys({key});
    if (!box) return std::nullopt;
    const std::string sealed = box->seal("whsec_bench_secret");

    metrics::Registry registry;
    webhook::Dispatcher::Config config;  // serve's: defaults plus its shutdown bounds
    config.poll_interval = o.poll_interval;
    config.concurrency = o.concurrency;
    config.stop_grace = 1s;
    config.stop_timeout = 2s;
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    webhook::Dispatcher dispatcher(io, store, *box, registry, config);
    dispatcher.start();
    std::thread sender([&] {
        pin_this_thread(o.sender_cpu);
        io.run();
    });
    pin_this_thread(o.sender_cpu);  // the enqueuing thread: the calls' side of a real server

    OutboxResults out;
    std::vector<std::int64_t> enqueued(static_cast<std::size_t>(o.events));
    const auto start = now_ns();
    for (int i = 0; i < o.events; ++i) {
        if (!store.enqueue_delivery(make_delivery('u', i, url, *box, sealed))) ++out.burst.errors;
        enqueued[static_cast<std::size_t>(i)] = now_ns();
    }
    out.enqueue_per_second = o.events / ((now_ns() - start) / 1e9);
    const bool all = burst.wait_all(600s);
    std::vector<double> latency_ms;
    for (int i = 0; i < o.events; ++i) {
        if (burst.at(i) != 0) latency_ms.push_back((burst.at(i) - enqueued[i]) / 1e6);
    }
    const int burst_errors = out.burst.errors + (o.events - burst.count());
    out.burst = summarise(latency_ms, burst.count(), (burst.last() - start) / 1e9, burst_errors);
    for (;;) {
        auto pending = store.count_pending_deliveries();
        if (!all || (pending && *pending == 0)) break;
        std::this_thread::sleep_for(1ms);
    }
    out.drained_seconds = (now_ns() - start) / 1e9;

    const auto paced_start = Clock::now();
    const auto paced_start_ns = now_ns();
    for (int i = 0; i < o.events; ++i) {
        std::this_thread::sleep_until(
            paced_start + std::chrono::nanoseconds(static_cast<long long>(1e9 * i / o.rate)));
        if (!store.enqueue_delivery(make_delivery('p', i, url, *box, sealed))) ++out.paced.errors;
        enqueued[static_cast<std::size_t>(i)] = now_ns();
    }
    paced.wait_all(600s);
    latency_ms.clear();
    for (int i = 0; i < o.events; ++i) {
        if (paced.at(i) != 0) latency_ms.push_back((paced.at(i) - enqueued[i]) / 1e6);
    }
    const int paced_errors = out.paced.errors + (o.events - paced.count());
    out.paced =
        summarise(latency_ms, paced.count(), (paced.last() - paced_start_ns) / 1e9, paced_errors);

    dispatcher.stop();
    work.reset();
    io.stop();
    sender.join();
    return out;
}

int run(const Options& o) {
    Receipts baseline(o.events), burst(o.events), paced(o.events);
    LoopbackReceiver receiver(o.receiver_cpu, [&](std::string_view body) {
        if (auto tag = tag_of(body)) {
            if (tag->first == 'b') baseline.record(tag->second);
            if (tag->first == 'u') burst.record(tag->second);
            if (tag->first == 'p') paced.record(tag->second);
        }
    });
    const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
    std::printf(
        "webhook bench: %d events per phase, %d in flight, sender CPU %d, receiver CPU %d,"
        " poll interval %lld ms, paced at %d/s\n",
        o.events, o.concurrency, o.sender_cpu, o.receiver_cpu,
        static_cast<long long>(o.poll_interval.count()), o.rate);

    const auto base = run_baseline(o, url, baseline);
    print("baseline: HttpClient loop, no store", base, "req");
    auto outbox = run_outbox(o, url, burst, paced);
    if (!outbox) return 1;
    print("outbox burst: enqueue -> delivered", outbox->burst, "del");
    std::printf("  enqueue alone: %.0f events/s; outbox drained (all recorded) after %.2f s\n",
                outbox->enqueue_per_second, outbox->drained_seconds);
    const std::string paced_name =
        "outbox paced at " + std::to_string(o.rate) + "/s: enqueue -> delivered";
    print(paced_name.c_str(), outbox->paced, "del");
    const double ratio = outbox->burst.per_second / base.per_second;
    std::printf("ratio outbox burst / baseline: %.3f\n", ratio);
    std::printf("target >= 2,000 deliveries/s: %s\n",
                outbox->burst.per_second >= 2000 ? "met" : "MISSED");
    const int errors = base.errors + outbox->burst.errors + outbox->paced.errors;
    return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tl::bench

int main(int argc, char** argv) {
    auto options = tl::bench::parse_options(argc, argv);
    if (!options) {
        std::fprintf(stderr,
                     "usage: %s [--events N] [--rate N] [--concurrency N] [--sender-cpu N]"
                     " [--receiver-cpu N] [--poll-interval-ms N]\n",
                     argv[0]);
        return 2;
    }
    return tl::bench::run(*options);
}
