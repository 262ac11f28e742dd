#pragma once
// The webhook dispatcher: claims due deliveries from the store's outbox, POSTs them (signed when
// the delivery carries a secret), and records the outcome. Retry policy (docs/webhooks.md):
//   2xx                                   delivered
//   connection error, timeout, TLS       retried after exponential back-off with full jitter,
//   failure, 5xx, 429                     until the delivery is older than max_age: then dead
//   any other status (4xx, 3xx, 1xx)     dead at once: the receiver rejects this payload and
//                                         will not accept it later; POST /retry re-queues it
//   bad URL, unsupported scheme          dead at once
// Per-call order comes from the store: claim_due_deliveries never hands out a delivery while an
// earlier one of the same call is still pending or delivering.
//
// Store calls are synchronous (SQLite) and run on the dispatcher's strand: give the dispatcher an
// io_context that does not serve latency-sensitive work (never the SIP thread or a call strand).
//
// Deliveries go out over net::HttpClient: http:// and https:// (verified against the system CA
// store plus Config::tls's CA file, host name checked).
//
// Thread-safety: start() and stop() may be called from any thread; stop() blocks (bounded) unless
// called from the io_context's own thread. Everything else runs on an internal strand.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "net/tls_client_context.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

namespace tl::webhook {

namespace detail {
class DispatcherCore;
}

class Dispatcher {
public:
    struct Config {
        std::chrono::seconds max_age{24 * 3600};  // give up (dead) on retryable failures after
        std::chrono::milliseconds base_backoff{1000};
        std::chrono::milliseconds max_backoff{10 * 60 * 1000};
        std::chrono::milliseconds poll_interval{200};
        int concurrency = 8;  // deliveries in flight at once
        // Deliveries claimed per store query at most (at least `concurrency`): claimed ahead,
        // they wait their turn as `delivering`.
        int claim_batch = 32;
        std::chrono::milliseconds request_timeout{10'000};
        // How long stop() lets deliveries in flight finish before cancelling them; a cancelled
        // one goes back to pending (due at once) and is sent again after the next start.
        std::chrono::milliseconds stop_grace{500};
        // How long stop() waits in all; anything still `delivering` then (a store call that
        // hangs) is recovered by reset_stuck_deliveries() at the next start.
        std::chrono::milliseconds stop_timeout{15'000};
        // HTTPS trust: the system CA store when empty, else what this context trusts.
        std::optional<net::TlsClientContext> tls;
        // Tests inject these; defaults are the system clock and a randomly seeded generator.
        std::function<SystemTime()> clock;
        std::uint64_t jitter_seed = 0;  // 0: random
    };

    Dispatcher(boost::asio::io_context& io,
               store::Store& store,
               const store::SecretBox& secrets,
               metrics::Registry& registry,
               Config config);
    // Stops polling without waiting (see stop()).
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // Resets deliveries a previous process left `delivering` (single-instance crash recovery),
    // then starts polling. Idempotent.
    void start();

    // Stops claiming new deliveries, lets in-flight ones finish and record their outcome for up
    // to config.stop_grace, then cancels the rest (back to pending); returns when every one has
    // recorded its outcome, or after config.stop_timeout at the latest. Idempotent.
    void stop();

private:
    std::shared_ptr<detail::DispatcherCore> core_;
};

// The back-off before attempt `attempts + 1` after `attempts` failed ones: a uniform draw in
// [0, min(max_backoff, base_backoff * 2^attempts)] ("full jitter"). `unit` is in [0, 1).
std::chrono::milliseconds backoff_delay(int attempts,
                                        std::chrono::milliseconds base_backoff,
                                        std::chrono::milliseconds max_backoff,
                                        double unit);

}  // namespace tl::webhook
