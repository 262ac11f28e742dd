#include "sip/stack/sip_stack.hpp"

#include "sip/stack/message_copy.hpp"
#include "sip/stack/sofia.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace tl::sip {

struct SipStack::Impl {
    SipStackConfig config;
    SipEvents& events;
    std::thread thread;
    su_home_t home[1] = {};
    su_root_t* root = nullptr;
    nua_t* nua = nullptr;
    int wake_fd = -1;
    int wake_index = -1;
    su_wait_t wake_wait[1] = {};

    std::mutex queue_mutex;
    std::deque<std::function<void()>> queue;

    // SIP thread only.
    std::unordered_map<DialogId, nua_handle_t*> dialogs;
    std::unordered_map<DialogId, OutboundInvite> outbound;  // credentials for challenges
    std::unordered_map<DialogId, int> auth_attempts;
    std::atomic<DialogId> next_dialog{1};
    bool shutting_down = false;

    std::atomic<bool> stopped{false};
    std::promise<void> shutdown_done;

    Impl(const SipStackConfig& c, SipEvents& e) : config(c), events(e) {}

    void post(std::function<void()> fn) {
        {
            std::lock_guard lock(queue_mutex);
            queue.push_back(std::move(fn));
        }
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
    }

    static int on_wake(void* magic, su_wait_t*, void*) {
        auto* self = static_cast<Impl*>(magic);
        std::uint64_t count = 0;
        [[maybe_unused]] auto n = ::read(self->wake_fd, &count, sizeof count);
        std::deque<std::function<void()>> jobs;
        {
            std::lock_guard lock(self->queue_mutex);
            jobs.swap(self->queue);
        }
        for (auto& job : jobs) job();
        return 0;
    }

    static void on_event(nua_event_t event,
                         int status,
                         char const* phrase,
                         nua_t* nua,
                         void* magic,
                         nua_handle_t* nh,
                         void* hmagic,
                         sip_t const* sip,
                         tagi_t tags[]) {
        static_cast<Impl*>(magic)->handle(event, status, phrase ? phrase : "", nua, nh, hmagic,
                                          sip, tags);
    }

    static DialogId id_of(void* hmagic) {
        return static_cast<DialogId>(reinterpret_cast<std::uintptr_t>(hmagic));
    }

    void handle(nua_event_t event,
                int status,
                const std::string& phrase,
                nua_t* nua_,
                nua_handle_t* nh,
                void* hmagic,
                sip_t const* sip,
                tagi_t tags[]) {
        switch (event) {
            case nua_i_invite:
                if (hmagic == nullptr) {
                    handle_new_invite(nh, sip);
                } else {
                    events.on_reinvite(id_of(hmagic), copy_invite(nua_, id_of(hmagic), sip));
                }
                return;
            case nua_i_ack:
                if (hmagic) events.on_ack(id_of(hmagic));
                return;
            case nua_i_cancel:
                if (hmagic) events.on_cancel(id_of(hmagic));
                return;
            case nua_i_bye:
                if (hmagic) events.on_bye(id_of(hmagic));
                return;
            case nua_i_state: {
                int state = nua_callstate_init;
                tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
                if (state == nua_callstate_terminated && hmagic) {
                    const auto id = id_of(hmagic);
                    dialogs.erase(id);
                    outbound.erase(id);
                    auth_attempts.erase(id);
                    nua_handle_bind(nh, nullptr);
                    nua_handle_destroy(nh);
                    events.on_terminated(id, status, phrase);
                }
                return;
            }
            case nua_r_shutdown:
                if (status >= 200) su_root_break(root);
                return;
            case nua_r_invite:
                if (hmagic) handle_invite_response(id_of(hmagic), nh, status, phrase, sip);
                return;
            case nua_r_refer:
                if (hmagic && status >= 200) events.on_refer_progress(id_of(hmagic), status, false);
                return;
            case nua_i_notify:
                if (hmagic) handle_notify(id_of(hmagic), sip);
                return;
            case nua_r_authenticate:
                if (status >= 300 && hmagic) {
                    // The challenge could not be answered (e.g. no supported algorithm).
                    spdlog::warn("sip: cannot authenticate dialog {}: {} {}", id_of(hmagic),
                                 status, phrase);
                    events.on_response(id_of(hmagic), 401, "Authentication failed: " + phrase, {});
                }
                return;
            case nua_r_bye:
            case nua_i_active:
            case nua_i_terminated:
            case nua_r_set_params:
            case nua_i_options:
                return;
            default:
                // A request we do not handle (the stack has already answered it per Allow):
                // free the handle nua created for it.
                if (nh && hmagic == nullptr && event < nua_r_set_params) nua_handle_destroy(nh);
                return;
        }
    }

    void handle_new_invite(nua_handle_t* nh, sip_t const* sip) {
        if (shutting_down) {
            nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
            nua_handle_destroy(nh);
            return;
        }
        const DialogId id = next_dialog++;
        nua_handle_bind(nh, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)));
        dialogs.emplace(id, nh);
        events.on_invite(copy_invite(nua, id, sip));
    }

    static std::string realm_of(sip_t const* sip) {
        const msg_auth_t* au = nullptr;
        if (sip && sip->sip_www_authenticate) au = sip->sip_www_authenticate;
        if (sip && sip->sip_proxy_authenticate) au = sip->sip_proxy_authenticate;
        if (au == nullptr) return {};
        const char* realm = msg_params_find(au->au_params, "realm=");
        return realm ? std::string(realm) : std::string();
    }

    void handle_invite_response(DialogId id,
                                nua_handle_t* nh,
                                int status,
                                const std::string& phrase,
                                sip_t const* sip) {
        if (status == 401 || status == 407) {
            const auto it = outbound.find(id);
            // One answer per challenge: a second challenge means the credentials are wrong,
            // and retrying would loop.
            const bool answer = it != outbound.end() && !it->second.auth_username.empty() &&
                                auth_attempts[id]++ < 1;
            events.on_auth_challenge(id, status, realm_of(sip), answer);
            if (answer) {
                auto realm = realm_of(sip);
                if (realm.empty()) realm = "\"\"";
                const auto auth = fmt::format("Digest:{}:{}:{}", realm, it->second.auth_username,
                                              it->second.auth_password);
                nua_authenticate(nh, NUTAG_AUTH(auth.c_str()), TAG_END());
                return;
            }
        }
        std::string sdp;
        if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
            sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
        }
        events.on_response(id, status, phrase, sdp);
    }

    void do_invite(DialogId id, const OutboundInvite& invite) {
        nua_handle_t* nh = nua_handle(nua, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
                                      NUTAG_URL(invite.request_uri.c_str()),
                                      SIPTAG_TO_STR(invite.request_uri.c_str()),
                                      SIPTAG_FROM_STR(invite.from_uri.c_str()), TAG_END());
        if (nh == nullptr) {
            events.on_response(id, 500, "cannot create a SIP handle", {});
            events.on_terminated(id, 500, "cannot create a SIP handle");
            return;
        }
        dialogs.emplace(id, nh);
        outbound.emplace(id, invite);
        std::string headers;
        for (const auto& h : invite.headers) headers += h.name + ": " + h.value + "\r\n";
        nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                   SIPTAG_PAYLOAD_STR(invite.sdp.c_str()),
                   TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
    }

    void do_reply(DialogId id, const Reply& reply) {
        const auto it = dialogs.find(id);
        if (it == dialogs.end()) return;  // the dialog ended meanwhile (CANCEL, BYE)
        std::string headers;
        for (const auto& h : reply.headers) headers += h.name + ": " + h.value + "\r\n";
        const char* phrase = reply.phrase.empty() ? sip_status_phrase(reply.status)
                                                  : reply.phrase.c_str();
        if (phrase == nullptr) phrase = "";
        if (!reply.sdp.empty()) {
            nua_respond(it->second, reply.status, phrase,
                        SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                        SIPTAG_PAYLOAD_STR(reply.sdp.c_str()),
                        TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
        } else {
            nua_respond(it->second, reply.status, phrase,
                        TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
        }
    }

    // A NOTIFY of our REFER's implicit subscription: its body is a message/sipfrag status line.
    void handle_notify(DialogId id, sip_t const* sip) {
        if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_data == nullptr) {
            return;
        }
        const std::string_view body(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
        // "SIP/2.0 200 OK" (RFC 3420); anything else is ignored.
        if (body.size() < 11 || body.substr(0, 8) != "SIP/2.0 ") return;
        int status = 0;
        for (std::size_t i = 8; i < 11; ++i) {
            if (body[i] < '0' || body[i] > '9') return;
            status = status * 10 + (body[i] - '0');
        }
        events.on_refer_progress(id, status, true);
    }

    void do_refer(DialogId id, const std::string& refer_to, const std::string& referred_by) {
        const auto it = dialogs.find(id);
        if (it == dialogs.end()) return;
        nua_refer(it->second, SIPTAG_REFER_TO_STR(refer_to.c_str()),
                  TAG_IF(!referred_by.empty(), SIPTAG_REFERRED_BY_STR(referred_by.c_str())),
                  TAG_END());
    }

    void do_bye(DialogId id) {
        const auto it = dialogs.find(id);
        if (it == dialogs.end()) return;
        if (outbound.count(id) && !nua_handle_has_active_call(it->second)) {
            nua_cancel(it->second, TAG_END());
        } else {
            nua_bye(it->second, TAG_END());
        }
    }

    void begin_shutdown() {
        shutting_down = true;
        for (const auto& [id, nh] : dialogs) {
            if (nua_handle_has_active_call(nh)) {
                nua_bye(nh, TAG_END());
            } else {
                nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"),
                            TAG_END());
            }
        }
        nua_shutdown(nua);
    }

    void run(std::promise<Status>& started) {
        su_init();
        su_home_init(home);
        root = su_root_create(this);
        if (root == nullptr) {
            started.set_value(make_error(Errc::kInternal, "cannot create the SIP event loop"));
            return cleanup();
        }
        // Behind NAT the address peers must use (Contact, Via) is not the bound one: sofia takes
        // it as the URL host with the bound address in maddr.
        const bool announce = !config.contact_host.empty() && config.contact_host != config.listen_host;
        const auto url = announce ? fmt::format("sip:{}:{};maddr={}", config.contact_host,
                                                config.listen_port, config.listen_host)
                                  : fmt::format("sip:{}:{}", config.listen_host, config.listen_port);
        nua = nua_create(root, &Impl::on_event, this, NUTAG_URL(url.c_str()),
                         NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
                         NUTAG_ENABLEMESSAGE(0), NUTAG_SESSION_TIMER(0),
                         // Exactly the methods we handle: NUTAG_ALLOW would add to NUA's own
                         // list (MESSAGE, SUBSCRIBE, REFER, ...), which we do not implement.
                         SIPTAG_ALLOW_STR(config.allow.c_str()), SIPTAG_SUPPORTED_STR(""),
                         SIPTAG_USER_AGENT_STR(config.user_agent.c_str()),
                         SIPTAG_SERVER_STR(config.user_agent.c_str()), TAG_END());
        if (nua == nullptr) {
            started.set_value(make_error(
                Errc::kUnavailable,
                fmt::format("cannot listen for SIP on {}:{} (UDP and TCP): address in use or "
                            "not local",
                            config.listen_host, config.listen_port)));
            return cleanup();
        }
        wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        su_wait_create(wake_wait, wake_fd, SU_WAIT_IN);
        wake_index = su_root_register(root, wake_wait, &Impl::on_wake, nullptr, 0);
        started.set_value(Status{});
        su_root_run(root);
        cleanup();
    }

    void cleanup() {
        if (nua) nua_destroy(nua);
        nua = nullptr;
        if (root && wake_index >= 0) su_root_deregister(root, wake_index);
        wake_index = -1;
        if (root) su_root_destroy(root);
        root = nullptr;
        if (wake_fd >= 0) ::close(wake_fd);
        wake_fd = -1;
        su_home_deinit(home);
        su_deinit();
    }
};

SipStack::SipStack(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<SipStack>> SipStack::start(const SipStackConfig& config, SipEvents& events) {
    auto impl = std::make_unique<Impl>(config, events);
    std::promise<Status> started;
    auto ready = started.get_future();
    Impl* raw = impl.get();
    impl->thread = std::thread([raw, &started] { raw->run(started); });
    auto status = ready.get();
    if (!status) {
        impl->thread.join();
        return status.error();
    }
    return std::unique_ptr<SipStack>(new SipStack(std::move(impl)));
}

SipStack::~SipStack() {
    stop();
}

void SipStack::reply(DialogId dialog, Reply reply) {
    impl_->post([impl = impl_.get(), dialog, r = std::move(reply)] { impl->do_reply(dialog, r); });
}

DialogId SipStack::invite(OutboundInvite invite, const std::function<void(DialogId)>& before_send) {
    const DialogId id = impl_->next_dialog++;
    if (before_send) before_send(id);
    impl_->post([impl = impl_.get(), id, invite = std::move(invite)] { impl->do_invite(id, invite); });
    return id;
}

void SipStack::refer(DialogId dialog, std::string refer_to, std::string referred_by) {
    impl_->post([impl = impl_.get(), dialog, refer_to = std::move(refer_to),
                 referred_by = std::move(referred_by)] {
        impl->do_refer(dialog, refer_to, referred_by);
    });
}

void SipStack::bye(DialogId dialog) {
    impl_->post([impl = impl_.get(), dialog] { impl->do_bye(dialog); });
}

void SipStack::post(std::function<void()> fn) {
    impl_->post(std::move(fn));
}

int SipStack::bound_port() const {
    return impl_->config.listen_port;
}

void SipStack::stop() {
    if (!impl_ || impl_->stopped.exchange(true)) return;
    impl_->post([impl = impl_.get()] { impl->begin_shutdown(); });
    // nua_shutdown waits for the BYEs it sent; a far end that never answers must not hold the
    // process, so after 3 s the loop is broken regardless.
    std::promise<void> exited;
    auto exited_future = exited.get_future();
    std::thread joiner([this, &exited] {
        impl_->thread.join();
        exited.set_value();
    });
    if (exited_future.wait_for(std::chrono::seconds(3)) == std::future_status::timeout) {
        impl_->post([impl = impl_.get()] { su_root_break(impl->root); });
    }
    joiner.join();
}

}  // namespace tl::sip
