#include "app/trunk_keepalive.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tl::app {
namespace {

// Trunks are re-read this often, so API changes (a new interval, a new trunk) apply soon.
constexpr auto kRefreshEvery = std::chrono::seconds(10);
// An OPTIONS without an answer for this long (or the interval, if shorter) marks the trunk
// unreachable; sofia itself would wait 32 s (timer F).
constexpr auto kAnswerWithin = std::chrono::seconds(5);
constexpr auto kTick = std::chrono::milliseconds(250);

std::string uri_of(const store::SipTrunk& t) {
    const bool v6 = t.host.find(':') != std::string::npos;
    return fmt::format("sip:{}{}{}:{}{}", v6 ? "[" : "", t.host, v6 ? "]" : "", t.port,
                       t.transport == "tcp" ? ";transport=tcp" : "");
}

}  // namespace

TrunkKeepAlive::TrunkKeepAlive(store::Store& store,
                               sip::SipStack& stack,
                               metrics::Registry& metrics,
                               std::string local_host)
    : store_(store), stack_(stack), metrics_(metrics), local_host_(std::move(local_host)) {
    thread_ = std::thread([this] { run(); });
}

TrunkKeepAlive::~TrunkKeepAlive() {
    {
        std::lock_guard lock(inbox_->mutex);
        inbox_->stopping = true;
    }
    inbox_->wake.notify_all();
    thread_.join();
}

void TrunkKeepAlive::run() {
    auto& inbox = *inbox_;
    std::unique_lock lock(inbox.mutex);
    while (!inbox.stopping) {
        std::deque<Outcome> outcomes;
        outcomes.swap(inbox.outcomes);
        lock.unlock();
        for (const auto& o : outcomes) apply(o);
        const auto now = Clock::now();
        if (now >= next_refresh_) refresh_trunks(now);
        for (auto& [id, p] : trunks_) {
            if (p.in_flight && !p.overdue_reported && now >= p.deadline) {
                p.overdue_reported = true;
                record(p, "unreachable", "no answer to OPTIONS");
            }
            if (!p.in_flight && now >= p.next_ping) ping(p, now);
        }
        lock.lock();
        inbox.wake.wait_for(lock, kTick, [&inbox] { return inbox.stopping || !inbox.outcomes.empty(); });
    }
}

void TrunkKeepAlive::refresh_trunks(Clock::time_point now) {
    next_refresh_ = now + kRefreshEvery;
    auto trunks = store_.list_pinged_trunks();
    if (!trunks) {
        spdlog::warn("keep-alive: cannot read the trunks: {}", trunks.error().message);
        return;
    }
    std::map<std::string, Pinged> fresh;
    for (auto& t : *trunks) {
        if (t.direction == "inbound" || t.host.empty() || !t.options_ping_seconds) continue;
        Pinged p;
        if (auto old = trunks_.find(t.id); old != trunks_.end()) p = std::move(old->second);
        p.status = p.trunk.id.empty() ? t.status : p.status;
        p.trunk = std::move(t);
        fresh.emplace(p.trunk.id, std::move(p));
    }
    trunks_ = std::move(fresh);
}

void TrunkKeepAlive::ping(Pinged& p, Clock::time_point now) {
    const auto interval = std::chrono::seconds(*p.trunk.options_ping_seconds);
    p.next_ping = now + interval;
    p.deadline = now + std::min<Clock::duration>(kAnswerWithin, interval);
    p.in_flight = true;
    p.overdue_reported = false;
    sip::OptionsRequest request;
    request.request_uri = uri_of(p.trunk);
    request.call_id = sip::new_call_id(local_host_);
    stack_.options(std::move(request), [inbox = inbox_, id = p.trunk.id](sip::OptionsResult result) {
        {
            std::lock_guard lock(inbox->mutex);
            inbox->outcomes.push_back({id, std::move(result)});
        }
        inbox->wake.notify_all();
    });
}

void TrunkKeepAlive::apply(const Outcome& outcome) {
    const auto it = trunks_.find(outcome.trunk_id);
    if (it == trunks_.end()) return;  // deleted or no longer pinged meanwhile
    auto& p = it->second;
    p.in_flight = false;
    const auto& r = outcome.result;
    if (r.origin == sip::ResponseOrigin::kNetwork) {
        metrics_.options_round_trip(p.trunk.id, static_cast<double>(r.round_trip.count()) / 1e6);
        record(p, "reachable", fmt::format("answered OPTIONS with {} {}", r.status, r.phrase));
    } else {
        // Statuses sofia made up: say what they mean, not "503 Service Unavailable".
        const bool dns = r.status == 503 && r.phrase.find("DNS") != std::string::npos;
        record(p, "unreachable",
               r.status == 408 ? "no answer to OPTIONS"
               : dns           ? "its host does not resolve (DNS)"
               : r.status == 503
                   ? "nothing accepts SIP there (connection refused or unreachable)"
                   : fmt::format("OPTIONS could not be sent: {} {}", r.status, r.phrase));
    }
}

void TrunkKeepAlive::record(Pinged& p, const std::string& status, const std::string& why) {
    const auto now = now_iso8601();
    if (auto st = store_.update_trunk_status(p.trunk.org_id, p.trunk.id, status, now); !st) {
        if (st.error().code == Errc::kNotFound) return;  // deleted meanwhile
        spdlog::warn("keep-alive: cannot store the status of trunk {}: {}", p.trunk.id,
                     st.error().message);
        return;
    }
    if (status == p.status) return;
    log::Fields fields;
    fields.org_id = p.trunk.org_id;
    fields.trunk_id = p.trunk.id;
    fields.reason = status;
    log::with_fields(fields, status == "reachable" ? spdlog::level::info : spdlog::level::warn,
                     "trunk {} ({}:{}) is {}: {}", p.trunk.name, p.trunk.host, p.trunk.port,
                     status, why);
    p.status = status;
}

}  // namespace tl::app
