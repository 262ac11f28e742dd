#pragma once
// What the test phone's two modes share (`trunkline call`: placing a call, phone_command.cpp;
// `trunkline call --answer`: taking one, phone_answer.cpp): the SIP events of its one dialog, the
// audio it sends, its RTP ports, and the media phase of an established call.
//
// Thread-safety: PhoneEvents is filled on the SIP thread and read by the command's thread under
// its mutex; the rest runs on the command's thread.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/phone_command.hpp"
#include "common/error.hpp"
#include "media/port_pool.hpp"
#include "media/rtp_session.hpp"
#include "media/sdp.hpp"
#include "sip/stack/sip_stack.hpp"

namespace tl::app::phone {

enum class Answering { kYes, kNo };

// The phone's view of its one dialog. A caller refuses incoming INVITEs (486); an answering phone
// keeps the first one for the command to answer and refuses any other while it is busy.
class PhoneEvents final : public sip::SipEvents {
public:
    explicit PhoneEvents(Answering answering) : answering_(answering) {}
    void attach(sip::SipStack& stack) { stack_ = &stack; }

    void on_invite(const sip::InviteRequest& invite) override;
    void on_reinvite(sip::DialogId dialog, const sip::InviteRequest&) override;
    void on_ack(sip::DialogId, const std::string&) override {}
    void on_cancel(sip::DialogId) override;
    void on_bye(sip::DialogId) override;
    void on_response(sip::DialogId,
                     int status,
                     const std::string& phrase,
                     const std::string& sdp,
                     sip::ResponseOrigin) override;
    void on_terminated(sip::DialogId, int, const std::string&) override;

    template <class Pred>
    bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return pred(); });
    }
    template <class Pred>
    void wait(Pred pred) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return pred(); });
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<sip::InviteRequest> incoming_;  // answering: the call taken
    bool cancelled_ = false;                      // answering: the caller gave up before 200
    std::optional<int> final_status_;             // calling: the INVITE's final response
    std::string final_phrase_;
    std::string answer_sdp_;
    bool remote_hangup_ = false;
    bool terminated_ = false;

private:
    template <class Fn>
    void set(Fn fn) {
        {
            std::lock_guard lock(mutex_);
            fn();
        }
        cv_.notify_all();
    }
    Answering answering_;
    sip::SipStack* stack_ = nullptr;
};

// What the phone sends once the call is up: each --say sentence spoken by the embedded
// espeak-ng, 3 s of silence after each but the last (the assistant answers in between), then the
// --play WAV (resampled to 8 kHz). Empty: silence. kInvalidRequest naming the option.
Result<std::shared_ptr<const media::Pcm>> outgoing_audio(const std::vector<std::string>& say,
                                                         const std::string& play);

// The local address the system would use to reach `host`.
std::string route_to(const std::string& host, int port);

// An RTP port pair bindable on `ip` now, from a random start so several phones can run at once.
Result<media::PortLease> rtp_ports(const std::string& ip);

struct MediaPlan {
    std::string local_ip;
    media::PortLease ports;
    media::NegotiatedAudio audio;
    std::shared_ptr<const media::Pcm> send;  // may be null: silence
    std::chrono::milliseconds duration{10'000};
    std::string record;  // "" records nothing
};

// The call is up: sends `plan.send`, records what is heard, and ends after `duration` with BYE
// unless the far end hangs up first (`plan.duration`); prints the outcome and writes `plan.record`
// (8 kHz WAV) when given.
// Returns the exit status (0, or 1 when the media could not start or the WAV not be written).
// The phone's io_context (media, timers) on a thread of its own until stop() or destruction.
class IoThread {
public:
    IoThread() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
    ~IoThread() { stop(); }
    IoThread(const IoThread&) = delete;
    IoThread& operator=(const IoThread&) = delete;
    boost::asio::io_context& io() { return io_; }
    void stop() {
        if (!thread_.joinable()) return;
        work_.reset();
        io_.stop();
        thread_.join();
    }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

int run_media(boost::asio::io_context& io,
              sip::SipStack& stack,
              PhoneEvents& events,
              sip::DialogId dialog,
              MediaPlan plan);

}  // namespace tl::app::phone
