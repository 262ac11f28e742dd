#pragma once
// Keep-alive of outbound trunks (options_ping_seconds): an OPTIONS every that many seconds; any
// SIP response means the trunk is reachable (even 401 or 405: something answers SIP there), no
// response in time or a transport failure means unreachable. The verdict and the time of the
// check are stored with the trunk (its `status` and `status_checked_at` in the API), a change is
// logged (warn when the trunk becomes unreachable), and each round trip goes to
// trunkline_trunk_options_rtt_seconds.
//
// Thread-safety: runs on its own thread; OPTIONS outcomes arrive on the SIP thread and are handed
// over through a queue that outlives this object. Construct after the stack; the stack must
// outlive it (it is only called, never waited for).

#include "sip/stack/sip_stack.hpp"
#include "sip/trunk_metrics.hpp"
#include "store/store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace tl::app {

class TrunkKeepAlive {
public:
    TrunkKeepAlive(store::Store& store,
                   sip::SipStack& stack,
                   metrics::Registry& metrics,
                   std::string local_host);
    ~TrunkKeepAlive();  // stops and joins
    TrunkKeepAlive(const TrunkKeepAlive&) = delete;
    TrunkKeepAlive& operator=(const TrunkKeepAlive&) = delete;

private:
    using Clock = std::chrono::steady_clock;
    struct Pinged {
        store::SipTrunk trunk;
        Clock::time_point next_ping{};
        Clock::time_point deadline{};  // of the OPTIONS in flight
        bool in_flight = false;
        bool overdue_reported = false;
        std::string status;  // the stored verdict
    };
    struct Outcome {
        std::string trunk_id;
        sip::OptionsResult result;
    };

    void run();
    void refresh_trunks(Clock::time_point now);
    void ping(Pinged& p, Clock::time_point now);
    void record(Pinged& p, const std::string& status, const std::string& why);
    void apply(const Outcome& outcome);

    store::Store& store_;
    sip::SipStack& stack_;
    sip::TrunkMetrics metrics_;
    std::string local_host_;
    std::map<std::string, Pinged> trunks_;  // by trunk id; the keep-alive thread only
    Clock::time_point next_refresh_{};

    // Shared with the OPTIONS callbacks, which may run on the SIP thread after this object is
    // gone (an answer that arrives after shutdown lands here, harmlessly).
    struct Inbox {
        std::mutex mutex;
        std::condition_variable wake;
        std::deque<Outcome> outcomes;
        bool stopping = false;
    };
    std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
    std::thread thread_;
};

}  // namespace tl::app
