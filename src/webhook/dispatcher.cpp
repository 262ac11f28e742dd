#include "webhook/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "net/http_client.hpp"
#include "webhook/signing.hpp"

namespace tl::webhook {

namespace asio = boost::asio;

std::chrono::milliseconds backoff_delay(int attempts,
                                        std::chrono::milliseconds base_backoff,
                                        std::chrono::milliseconds max_backoff,
                                        double unit) {
    // 2^attempts overflows quickly; past 2^30 the cap applies anyway.
    const int shift = std::clamp(attempts, 0, 30);
    const double ceiling =
        std::min(static_cast<double>(max_backoff.count()),
                 static_cast<double>(base_backoff.count()) * static_cast<double>(1LL << shift));
    return std::chrono::milliseconds(static_cast<long long>(ceiling * std::clamp(unit, 0.0, 1.0)));
}

namespace detail {

class DispatcherCore : public std::enable_shared_from_this<DispatcherCore> {
public:
    DispatcherCore(asio::io_context& io,
                   store::Store& store,
                   const store::SecretBox& secrets,
                   metrics::Registry& registry,
                   Dispatcher::Config config)
        : strand_(asio::make_strand(io)),
          store_(store),
          secrets_(secrets),
          config_(std::move(config)),
          client_(strand_, config_.tls.value_or(net::TlsClientContext::system_default())),
          timer_(strand_),
          grace_timer_(strand_),
          rng_(config_.jitter_seed != 0 ? config_.jitter_seed : std::random_device{}()),
          delivered_(registry.counter("trunkline_webhook_deliveries_total",
                                      "Webhook delivery attempts by outcome.",
                                      {{"result", "delivered"}})),
          failed_(registry.counter("trunkline_webhook_deliveries_total",
                                   "Webhook delivery attempts by outcome.",
                                   {{"result", "failed"}})),
          dead_(registry.counter("trunkline_webhook_deliveries_total",
                                 "Webhook delivery attempts by outcome.",
                                 {{"result", "dead"}})),
          pending_(registry.gauge("trunkline_webhook_pending",
                                  "Webhook deliveries not yet delivered or dead.")) {
        if (!config_.clock) config_.clock = [] { return std::chrono::system_clock::now(); };
        config_.concurrency = std::max(config_.concurrency, 1);
        config_.claim_batch = std::max(config_.claim_batch, config_.concurrency);
    }

    void start() {
        asio::post(strand_, [self = shared_from_this()] {
            if (self->running_ || self->stopped_) return;
            self->running_ = true;
            if (auto reset = self->store_.reset_stuck_deliveries(self->now_iso()); !reset) {
                spdlog::error("[webhook] cannot reset stuck deliveries: {}", reset.error().message);
            } else if (*reset > 0) {
                spdlog::info("[webhook] {} interrupted deliveries will be resent", *reset);
            }
            asio::co_spawn(self->strand_, poll_loop(self), asio::detached);
        });
    }

    // Fulfils `done` once nothing is in flight any more. Requests still in flight after the
    // grace period are cancelled: a receiver that accepted the connection but never answers
    // would otherwise hold stop() until request_timeout (10 s), beyond serve's stop_timeout.
    void stop(std::shared_ptr<std::promise<void>> done) {
        asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
            self->running_ = false;
            self->timer_.cancel();
            if (done) self->stop_waiters_.push_back(done);
            if (!self->stopped_) {
                self->stopped_ = true;
                if (self->in_flight_ > 0) {
                    self->grace_timer_.expires_after(self->config_.stop_grace);
                    self->grace_timer_.async_wait([self](const boost::system::error_code& ec) {
                        if (!ec) self->client_.cancel_all();
                    });
                }
            }
            self->finish_stop_if_idle();
        });
    }

    bool on_own_thread() const { return strand_.get_inner_executor().running_in_this_thread(); }
    std::chrono::milliseconds stop_timeout() const { return config_.stop_timeout; }

private:
    // Coroutines take their owner as a parameter: the frame keeps the core alive from the
    // moment it is created, not only once it first runs.
    static asio::awaitable<void> poll_loop(std::shared_ptr<DispatcherCore> self) {
        while (self->running_) {
            self->claim_and_send();
            self->timer_.expires_after(self->config_.poll_interval);
            co_await self->timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    // Claims ahead of the free slots: the claim query costs about the same for 1 or 32 rows and
    // grows with the backlog (docs/benchmarks.md), so one query serves many deliveries. Claimed
    // ones wait in `ready_` as `delivering`; stop() puts those it never sent back to pending.
    void claim_and_send() {
        if (static_cast<int>(ready_.size()) <= config_.concurrency) {
            const int room = config_.claim_batch - static_cast<int>(ready_.size());
            auto claimed = store_.claim_due_deliveries(now_iso(), room);
            if (!claimed) {
                spdlog::error("[webhook] cannot claim deliveries: {}", claimed.error().message);
            } else {
                for (auto& d : *claimed) ready_.push_back(std::move(d));
            }
        }
        while (in_flight_ < config_.concurrency && !ready_.empty()) {
            ++in_flight_;
            asio::co_spawn(strand_, deliver(shared_from_this(), std::move(ready_.front())),
                           asio::detached);
            ready_.pop_front();
        }
        // The gauge is refreshed at most once per poll interval (one COUNT query).
        const auto now = std::chrono::steady_clock::now();
        if (now - gauge_updated_ >= config_.poll_interval) {
            gauge_updated_ = now;
            if (auto pending = store_.count_pending_deliveries()) pending_.set(*pending);
        }
    }

    static asio::awaitable<void> deliver(std::shared_ptr<DispatcherCore> self,
                                         store::WebhookDelivery d) {
        co_await self->send(d);
        --self->in_flight_;
        self->finish_stop_if_idle();
        // A finished delivery frees a slot and may release the next event of its call.
        if (self->running_) self->timer_.cancel();
    }

    asio::awaitable<void> send(const store::WebhookDelivery& d) {
        const SystemTime sent_at = config_.clock();
        const std::string timestamp = std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(sent_at.time_since_epoch()).count());
        net::HttpRequest request;
        request.url = d.url;
        request.timeout = config_.request_timeout;
        bool sendable = true;
        std::string secret;
        if (d.secret_sealed) {
            auto unsealed = secrets_.unseal(*d.secret_sealed);
            if (!unsealed) {
                // A master key that cannot open the secret will not open it later either.
                record_dead(d, std::nullopt, "cannot unseal the webhook secret");
                sendable = false;
            } else {
                secret = std::move(*unsealed);
            }
        }
        request.headers = webhook_headers(d.event, timestamp, secret, d.payload_json);
        if (sendable) {
            request.body = d.payload_json;
            auto result = co_await client_.post(std::move(request));
            record(d, result);
        }
    }

    void record(const store::WebhookDelivery& d, const net::HttpResult& result) {
        if (result) {
            const int status = result->status;
            if (status >= 200 && status < 300) {
                if (auto done = store_.complete_delivery(d.id, status, now_iso()); !done) {
                    store_failure(d, done.error());
                }
                delivered_.inc();
                return;
            }
            const std::string error = "HTTP " + std::to_string(status);
            if (status >= 500 || status == 429) {
                record_retry(d, status, error);
            } else {
                record_dead(d, status, error);
            }
            return;
        }
        const auto& failure = result.error();
        switch (failure.code) {
            case net::HttpErrc::kBadUrl:
            case net::HttpErrc::kUnsupportedScheme:
                record_dead(d, std::nullopt, failure.message);
                return;
            case net::HttpErrc::kCancelled:
                record_interrupted(d);
                return;
            default:
                // A TLS failure too: a certificate gets renewed, a CA file gets fixed.
                record_retry(d, std::nullopt, failure.message);
                return;
        }
    }

    // Cancelled by stop(): the receiver may or may not have it; due again at once, so the next
    // start sends it first (at least once).
    void record_interrupted(const store::WebhookDelivery& d) {
        const std::string now = now_iso();
        store::DeliveryFailure failure{std::nullopt, "interrupted by shutdown", now, now};
        if (auto done = store_.fail_delivery(d.id, failure); !done) {
            store_failure(d, done.error());
        }
        failed_.inc();
    }

    void record_retry(const store::WebhookDelivery& d,
                      std::optional<int> status,
                      const std::string& error) {
        const SystemTime now = config_.clock();
        const auto since = parse_iso8601(d.retried_at.value_or(d.created_at)).value_or(now);
        if (now - since >= config_.max_age) {
            record_dead(d, status,
                        error + " (gave up after " + std::to_string(d.attempts + 1) + " attempts)");
            return;
        }
        const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        const auto delay =
            backoff_delay(d.attempts, config_.base_backoff, config_.max_backoff, unit);
        store::DeliveryFailure failure{status, error, format_iso8601(now + delay),
                                       format_iso8601(now)};
        if (auto done = store_.fail_delivery(d.id, failure); !done) {
            store_failure(d, done.error());
        }
        failed_.inc();
    }

    void record_dead(const store::WebhookDelivery& d,
                     std::optional<int> status,
                     const std::string& error) {
        store::DeliveryFailure failure{status, error, std::nullopt, now_iso()};
        if (auto done = store_.fail_delivery(d.id, failure); !done) {
            store_failure(d, done.error());
        }
        spdlog::warn("[webhook={}] {} to {} is dead: {}", d.id, d.event, d.url, error);
        dead_.inc();
    }

    void store_failure(const store::WebhookDelivery& d, const Error& error) {
        // The delivery stays `delivering` and is resent after the next restart (at least once).
        spdlog::error("[webhook={}] cannot record the delivery outcome: {}", d.id, error.message);
    }

    void finish_stop_if_idle() {
        if (running_ || in_flight_ > 0) return;
        grace_timer_.cancel();
        if (!ready_.empty()) {
            // Claimed, never sent. Nothing else is `delivering` now (one dispatcher per
            // database, as at start-up), so the start-up reset is exactly their release.
            ready_.clear();
            if (auto reset = store_.reset_stuck_deliveries(now_iso()); !reset) {
                spdlog::error("[webhook] cannot release claimed deliveries: {}",
                              reset.error().message);
            }
        }
        for (auto& waiter : stop_waiters_) waiter->set_value();
        stop_waiters_.clear();
        client_.close_idle();
    }

    std::string now_iso() const { return format_iso8601(config_.clock()); }

    asio::strand<asio::io_context::executor_type> strand_;
    store::Store& store_;
    const store::SecretBox& secrets_;
    Dispatcher::Config config_;
    net::HttpClient client_;
    asio::steady_timer timer_;        // the poll interval; cancelled to poll at once
    asio::steady_timer grace_timer_;  // stop(): when in-flight requests get cancelled
    std::mt19937_64 rng_;
    metrics::Counter& delivered_;
    metrics::Counter& failed_;
    metrics::Counter& dead_;
    metrics::Gauge& pending_;
    std::chrono::steady_clock::time_point gauge_updated_{};
    bool running_ = false;
    bool stopped_ = false;
    int in_flight_ = 0;
    std::deque<store::WebhookDelivery> ready_;  // claimed, waiting for a free slot
    std::vector<std::shared_ptr<std::promise<void>>> stop_waiters_;
};

}  // namespace detail

Dispatcher::Dispatcher(asio::io_context& io,
                       store::Store& store,
                       const store::SecretBox& secrets,
                       metrics::Registry& registry,
                       Config config)
    : core_(std::make_shared<detail::DispatcherCore>(
          io, store, secrets, registry, std::move(config))) {}

Dispatcher::~Dispatcher() { core_->stop(nullptr); }

void Dispatcher::start() { core_->start(); }

void Dispatcher::stop() {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    core_->stop(std::move(done));
    if (core_->on_own_thread()) return;  // cannot wait for ourselves
    finished.wait_for(core_->stop_timeout());
}

}  // namespace tl::webhook
