#include "app/serve.hpp"

#include "api/api_context.hpp"
#include "api/http_server.hpp"
#include "api/openapi_document.hpp"
#include "app/data_dir.hpp"
#include "app/demo.hpp"
#include "app/listen_address.hpp"
#include "app/diagnose_commands.hpp"
#include "app/sip_edge.hpp"
#include "common/log.hpp"
#include "common/validation.hpp"
#include "sip/tcp_guard.hpp"
#include "net/tls_client_context.hpp"
#include "recording/recording_files.hpp"
#include "recording/recording_purger.hpp"
#include "webhook/dispatcher.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <sched.h>

#include <condition_variable>
#include <fstream>
#include <cstdio>
#include <iostream>
#include <thread>

namespace tl::app {

namespace asio = boost::asio;

namespace {

// Webhook deliveries on their own thread and io_context: the dispatcher's store calls block, so
// they must not share the threads that serve the API and the calls. Stops on every exit path.
class WebhookRunner {
public:
    WebhookRunner(store::Store& store,
                  const store::SecretBox& secrets,
                  metrics::Registry& metrics,
                  webhook::Dispatcher::Config config)
        : dispatcher_(io_, store, secrets, metrics, shutdown_bounds(std::move(config))),
          work_(asio::make_work_guard(io_)) {
        dispatcher_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~WebhookRunner() { stop(); }
    // Shutdown gives deliveries in flight 1 s, then cancels them, and waits 2 s at most: the
    // outbox is durable, so whatever is cut short is sent again after the restart.
    static webhook::Dispatcher::Config shutdown_bounds(webhook::Dispatcher::Config c) {
        c.stop_grace = std::chrono::seconds(1);
        c.stop_timeout = std::chrono::seconds(2);
        return c;
    }
    void stop() {
        if (!thread_.joinable()) return;
        dispatcher_.stop();
        work_.reset();
        io_.stop();
        thread_.join();
    }

private:
    asio::io_context io_;
    webhook::Dispatcher dispatcher_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
};

// What `serve` prints on stdout (the listening addresses, the demo's instructions) and its
// start-up errors: plain text for people, one JSON object per line with --log-format json, so
// a log pipeline can parse every line the process writes.
class Console {
public:
    explicit Console(log::Format format) : format_(format) {}

    void print(const std::string& text) const { write(std::cout, "info", text); }
    // Returns the exit code, so `return console.fail(2, "...")` reads as what happens.
    int fail(int code, const std::string& text) const {
        write(std::cerr, "error", "trunkline: " + text);
        return code;
    }

private:
    void write(std::ostream& out, const char* level, const std::string& text) const {
        if (format_ == log::Format::kText) {
            out << text << (text.ends_with('\n') ? "" : "\n") << std::flush;
            return;
        }
        std::string trimmed = text;
        while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
        const auto ts = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::time(nullptr)));
        out << boost::json::serialize(boost::json::object{
                   {"ts", ts}, {"level", level}, {"msg", trimmed}})
            << "\n"
            << std::flush;
    }
    log::Format format_;
};

// One io thread per CPU this process may run on (taskset/cgroups), not per CPU of the machine:
// more threads than usable cores only add context switches.
unsigned io_thread_count() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

int run_serve(const ServeOptions& options) {
    const auto format = options.log_format == "json" ? log::Format::kJson : log::Format::kText;
    if (options.log_format != "json" && options.log_format != "text") {
        std::cerr << "trunkline: --log-format must be text or json\n";
        return 2;
    }
    if (!log::init(format, options.log_level)) {
        std::cerr << "trunkline: --log-level must be one of trace, debug, info, warn, error, "
                     "critical, off\n";
        return 2;
    }
    const Console console(format);
    // The SIP port faces the internet: the default soft limit (1024) is for shells.
    const long descriptors = sip::raise_descriptor_limit();
    spdlog::info("descriptor limit {}", descriptors);
    auto api_listen = parse_listen_address(options.api_listen, "--api-listen");
    auto sip_listen = parse_listen_address(options.sip_listen, "--sip-listen");
    auto rtp_ports = parse_port_range(options.rtp_ports, "--rtp-ports");
    for (const auto* failed : {api_listen ? nullptr : &api_listen,
                               sip_listen ? nullptr : &sip_listen}) {
        if (failed) {
            return console.fail(2, failed->error().message);
        }
    }
    if (!rtp_ports) {
        return console.fail(2, rtp_ports.error().message);
    }
    if (!options.public_ip.empty() && !is_ipv4(options.public_ip) && !is_ipv6(options.public_ip)) {
        return console.fail(2, "--public-ip must be an IPv4 or IPv6 address");
    }
    if (options.api_rate_limit < 1) {
        return console.fail(2, "--api-rate-limit must be at least 1");
    }
    if (options.webhook_retry_max_ms < options.webhook_retry_base_ms) {
        return console.fail(2, "--webhook-retry-max-ms must be at least --webhook-retry-base-ms");
    }
    auto webhook_tls = net::TlsClientContext::create(options.webhook_ca_file);
    if (!webhook_tls) {
        return console.fail(2, "--webhook-ca-file: " + webhook_tls.error().message);
    }

    auto secrets = open_secret_box(options.data_dir);
    if (!secrets) {
        return console.fail(1, "master key: " + secrets.error().message);
    }
    auto store = open_data_dir_store(options.data_dir);
    if (!store) {
        return console.fail(1, "store: " + store.error().message);
    }
    spdlog::info("data dir {} (schema version {}), master key id {}", options.data_dir,
                 (*store)->schema_version(), secrets->primary_key_id());

    metrics::Registry metrics;
    api::Authenticator authenticator(**store);
    api::RateLimiter rate_limiter(options.api_rate_limit, std::chrono::seconds(60));
    api::RateLimiter control_limiter(10, std::chrono::seconds(60));
    asio::io_context io;
    SipEdgeOptions edge_options;
    edge_options.sip_listen = *sip_listen;
    edge_options.rtp_ports = *rtp_ports;
    edge_options.webhook_tls = *webhook_tls;
    edge_options.public_ip = options.public_ip;
    edge_options.rtp_timeout = std::chrono::milliseconds(
        static_cast<long long>(options.rtp_timeout_seconds * 1000));
    edge_options.max_concurrent_calls = options.max_concurrent_calls;
    edge_options.max_calls_per_second = options.max_calls_per_second;
    edge_options.answer_delay = std::chrono::milliseconds(options.answer_delay_ms);
    edge_options.digest_sha256 = options.sip_digest_sha256;
    edge_options.user_agent = options.sip_user_agent;
    edge_options.tcp_limits.max_per_source = options.sip_tcp_max_per_source;
    edge_options.tcp_limits.max_total = options.sip_tcp_max_connections;
    edge_options.tcp_idle_timeout = std::chrono::milliseconds(
        static_cast<long long>(options.sip_tcp_idle_timeout_seconds * 1000));
    edge_options.transfer_timeout = std::chrono::milliseconds(
        static_cast<long long>(options.transfer_timeout_seconds * 1000));
    edge_options.capture_retention_days = options.sip_capture_retention_days;
    edge_options.hep_endpoint = options.hep_endpoint;
    edge_options.hep_id = static_cast<std::uint32_t>(options.hep_id);
    // Recordings: sealed files under the data directory, purged after the retention.
    recording::RecordingFiles recordings(std::filesystem::path(options.data_dir) / "recordings",
                                         *secrets);
    recording::RecordingPurger recording_purger(recordings, options.recording_retention_days);
    edge_options.recordings = &recordings;
    auto edge = SipEdge::start(io, **store, *secrets, metrics, edge_options);
    if (!edge) {
        const auto& message = edge.error().message;
        return console.fail(1, message.rfind("--", 0) == 0 ? message : "--sip-listen: " + message);
    }
    api::ApiContext ctx{**store,
                        *secrets,
                        control_limiter,
                        metrics,
                        (*edge)->endpoint(),
                        TL_VERSION,
                        std::string(api::openapi_document())};
    ctx.live_calls = &(*edge)->calls();
    ctx.sip_stack = &(*edge)->stack();
    ctx.sip_capture = &(*edge)->capture();
    ctx.sip_local_host = (*edge)->announced_host();
    ctx.recordings = &recordings;
    api::Router router(authenticator, rate_limiter, metrics);
    api::add_all_routes(router, ctx);
    if (options.enable_test_hooks) {
        spdlog::warn("test hooks enabled: not for production");
        api::add_test_hook_routes(router, ctx);
    }

    webhook::Dispatcher::Config webhook_config;
    webhook_config.tls = *webhook_tls;
    webhook_config.base_backoff = std::chrono::milliseconds(options.webhook_retry_base_ms);
    webhook_config.max_backoff = std::chrono::milliseconds(options.webhook_retry_max_ms);
    WebhookRunner webhooks(**store, *secrets, metrics, std::move(webhook_config));

    api::HttpServer server(io, router);
    const auto bound = server.start(
        asio::ip::tcp::endpoint(asio::ip::make_address(api_listen->host),
                                static_cast<unsigned short>(api_listen->port)));
    if (!bound) {
        return console.fail(1, "--api-listen: " + bound.error().message);
    }
    const ListenAddress bound_address{bound->address().to_string(), bound->port()};
    const auto base = "http://" + bound_address.to_string();

    if (options.demo) {
        auto demo = ensure_demo(**store);
        if (!demo) {
            return console.fail(1, "demo configuration: " + demo.error().message);
        }
        console.print(demo_text(demo->api_key, base, (*edge)->endpoint()));
    }

    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::thread watchdog;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("signal {}: stopping (in-flight requests finish, {} s at most)", signal,
                     options.shutdown_timeout_seconds);
        server.stop();
        // Ending calls needs the io threads (each call's strand), so it runs beside them.
        watchdog = std::thread([&] {
            (*edge)->stop();
            std::unique_lock lock(done_mutex);
            const auto limit = std::chrono::duration<double>(options.shutdown_timeout_seconds);
            if (!done_cv.wait_for(lock, limit, [&] { return done; })) {
                spdlog::warn("shutdown timeout: closing remaining connections");
                io.stop();
            }
        });
    });

    console.print("trunkline: sip listening on " + (*edge)->listening());
    // For `trunkline trunk test`, which runs beside the server and tells carriers where to send.
    if (std::ofstream file(sip_endpoint_file(options.data_dir)); file) {
        file << (*edge)->endpoint() << "\n";
    }
    console.print("trunkline: api listening on " + base);
    spdlog::info("api listening on {}", base);

    const unsigned threads = io_thread_count();
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
    webhooks.stop();
    {
        std::lock_guard lock(done_mutex);
        done = true;
    }
    done_cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
    spdlog::info("stopped");
    return 0;
}

}  // namespace tl::app
