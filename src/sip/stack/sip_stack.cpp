#include "sip/stack/sip_stack.hpp"

#include "common/log.hpp"
#include "sip/capture/redaction.hpp"
#include "sip/dtmf_info.hpp"
#include "sip/sip_capture_registry.hpp"
#include "sip/stack/message_copy.hpp"
#include "sip/stack/sofia.hpp"
#include "sip/stack/sofia_log.hpp"
#include "sip/tcp_guard.hpp"

#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include <arpa/inet.h>
#include <dlfcn.h>

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
#include <unordered_set>

// Lifetimes of what we hand to sofia-sip (the rule: nothing may depend on a caller's buffer
// outliving the call into sofia):
// - nua_respond/nua_invite/nua_refer/nua_authenticate/nua_handle copy their tag lists (nua_signal
//   and nh_create_handle duplicate every SIPTAG_*_STR, NUTAG_URL and payload string), so
//   c_str() of a local std::string is safe there.
// - The status phrase of nua_respond is NOT copied: nua keeps the pointer until it builds the
//   response from its event queue, after the call returns. Custom phrases are therefore copied
//   into the handle's memory home (freed with the handle); standard ones are static strings.
// - Everything sofia gives us (sip_t, phrases, payloads) is copied into plain C++ values before
//   an event leaves this thread (message_copy.cpp, body_of()).
namespace tl::sip {
namespace {

// The stack whose messages go to its capture registry (see tport_log_msg below).
std::atomic<SipStack::Impl*> capturing_stack{nullptr};

// nta marks the responses it makes up itself (DNS failure, timeout, transport error) with this
// flag in sip_flags (NTA_INTERNAL_MSG in sofia-sip's nta_internal.h, not an installed header).
constexpr unsigned kNtaInternalMessage = 1u << 15;

ResponseOrigin origin_of(sip_t const* sip) {
    return sip == nullptr || (sip->sip_flags & kNtaInternalMessage) != 0 ? ResponseOrigin::kLocal
                                                                          : ResponseOrigin::kNetwork;
}

std::string address_text(su_sockaddr_t const* su) {
    char text[INET6_ADDRSTRLEN] = "";
    if (su->su_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &su->su_sin6.sin6_addr, text, sizeof text);
    } else {
        ::inet_ntop(AF_INET, &su->su_sin.sin_addr, text, sizeof text);
    }
    return text;
}

bool is_wildcard(std::string_view ip) {
    return ip.empty() || ip == "0.0.0.0" || ip == "::";
}

// The stack whose thread closes TCP connections that sent an unparseable message (see
// tport_stall below). One SIP stack per process.
std::atomic<SipStack::Impl*> stalled_connections_closer{nullptr};

constexpr unsigned kSessionExpires = 1800;   // RFC 4028 §4 recommends 30 minutes
constexpr unsigned kMinSessionExpires = 90;  // RFC 4028 §4: the smallest Min-SE

bool allows_update(sip_t const* sip) {
    return sip && sip->sip_allow && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
}

}  // namespace

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
    // Dialogs on TCP: our Contact must say so (RFC 3261 §12.1.1, RFC 3263 §4.1), or the peer
    // sends its ACK, BYE and re-INVITEs over UDP.
    std::unordered_map<DialogId, std::string> stream_contacts;
    // Where a TCP dialog's connection comes from ("sip:IP:PORT;transport=tcp"): our own requests
    // on the dialog go back over that connection while it is open (RFC 5923's idea), not over a
    // new one to the peer's Contact.
    std::unordered_map<DialogId, std::string> stream_sources;
    // OPTIONS probes in flight (do_options).
    struct OptionsProbe {
        OptionsRequest request;
        std::function<void(OptionsResult)> done;
        std::chrono::steady_clock::time_point sent;
        OptionsResult result;
    };
    std::unordered_map<DialogId, OptionsProbe> options_probes;
    // Dialogs whose BYE the application asked for (any other BYE is the session timer's).
    std::unordered_set<DialogId> app_byes;
    // Dialogs whose peer supports session timers: our 2xx then says Require: timer (RFC 4028 §9).
    std::unordered_set<DialogId> timer_peers;
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

    // A TCP connection sofia stopped reading after a message it could not parse: close it on
    // the next turn of the SIP thread, once sofia is done with the message (its 400 has gone
    // out). The reference keeps the transport alive until then.
    void close_stalled(tport_t* tp) {
        tport_ref(tp);
        post([tp] {
            // Closed meanwhile (the peer hung up, the stack's own error path): closing twice
            // would unlink it from sofia's connection tree twice.
            if (!tport_is_closed(tp)) tport_shutdown(tp, 2);
            tport_unref(tp);
        });
    }

    // Our end of TCP connections, by transport and peer: looked up in /proc once per connection.
    std::unordered_map<std::string, std::pair<std::string, int>> tcp_local_ends;

    // One message on the wire (tport_log_msg below), SIP thread: copied, redacted and handed to
    // the capture registry under its Call-ID.
    void capture_message(tport_t* tp, msg_t* msg, bool received) {
        sip_t const* sip = sip_object(msg);
        su_sockaddr_t const* peer = msg_addr(msg);
        if (sip == nullptr || sip->sip_call_id == nullptr || sip->sip_call_id->i_id == nullptr ||
            peer == nullptr) {
            return;
        }
        const auto needed = msg_iovec(msg, nullptr, 0);
        std::vector<msg_iovec_t> iov(static_cast<std::size_t>(needed) + 1);
        const auto used = msg_iovec(msg, iov.data(), static_cast<isize_t>(iov.size()));
        const std::size_t count = std::min(iov.size(), static_cast<std::size_t>(std::max(used, 0)));
        std::string raw;
        for (std::size_t i = 0; i < count; ++i) {
            raw.append(static_cast<const char*>(iov[i].mv_base), iov[i].mv_len);
        }
        CapturedMessage m;
        m.timestamp = std::chrono::system_clock::now();
        m.direction = received ? Direction::kIn : Direction::kOut;
        const tp_name_t* name = tport_name(tp);
        m.transport = name && name->tpn_proto ? name->tpn_proto : "udp";
        for (auto& c : m.transport) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        m.remote_ip = address_text(peer);
        m.remote_port = ntohs(peer->su_port);
        m.local_ip = config.listen_host;
        m.local_port = config.listen_port;
        if (tport_is_stream(tp)) {
            const auto key = fmt::format("{}|{}|{}", m.transport, m.remote_ip, m.remote_port);
            auto it = tcp_local_ends.find(key);
            if (it == tcp_local_ends.end()) {
                if (auto end = local_end_of_tcp_connection(config.listen_port, m.remote_ip,
                                                           m.remote_port)) {
                    if (tcp_local_ends.size() > 4096) tcp_local_ends.clear();
                    it = tcp_local_ends.emplace(key, *end).first;
                }
            }
            if (it != tcp_local_ends.end()) {
                m.local_ip = it->second.first;
                m.local_port = it->second.second;
            }
        }
        if (is_wildcard(m.local_ip)) {
            m.local_ip = config.contact_host.empty() ? m.local_ip : config.contact_host;
        }
        m.raw = redact_sip_message(raw);
        config.capture->record(sip->sip_call_id->i_id, std::move(m));
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
                if (hmagic) events.on_ack(id_of(hmagic), body_of(sip));
                return;
            case nua_i_info:
                handle_info(nua_, nh, hmagic, sip);
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
                    stream_contacts.erase(id);
                    stream_sources.erase(id);
                    app_byes.erase(id);
                    timer_peers.erase(id);
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
            case nua_r_options:
                if (hmagic) handle_options_response(id_of(hmagic), nh, status, phrase, sip);
                return;
            case nua_r_authenticate:
                if (status >= 300 && hmagic && options_probes.count(id_of(hmagic))) {
                    // An OPTIONS probe's challenge we cannot answer: that is its outcome.
                    return handle_options_response(id_of(hmagic), nh, status,
                                                   "Authentication failed: " + phrase, nullptr);
                }
                if (status >= 300 && hmagic) {
                    // The challenge could not be answered (e.g. no supported algorithm).
                    spdlog::warn("sip: cannot authenticate dialog {}: {} {}", id_of(hmagic),
                                 status, phrase);
                    events.on_response(id_of(hmagic), 401, "Authentication failed: " + phrase, {},
                                       ResponseOrigin::kLocal);
                }
                return;
            case nua_r_bye:
                // A BYE the application did not ask for: the stack's session timer found the
                // session expired (RFC 4028 §10: no refresh arrived in time).
                if (hmagic && !app_byes.count(id_of(hmagic)) && status >= 200) {
                    app_byes.insert(id_of(hmagic));
                    events.on_session_timer_expired(id_of(hmagic), true);
                }
                return;
            case nua_r_update:
                // Only the session timer sends UPDATE: a refresh the peer refused or never
                // answered ends the session (RFC 4028 §10).
                if (hmagic && status >= 300) {
                    spdlog::warn("sip: session refresh (UPDATE) of dialog {} failed: {} {}",
                                 id_of(hmagic), status, log::clip(phrase));
                    events.on_session_timer_expired(id_of(hmagic), false);
                }
                return;
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
        auto invite = copy_invite(nua, id, sip);
        if (invite.transport == "tcp") {
            stream_contacts.emplace(id, contact_for("tcp"));
            const bool v6 = invite.source_ip.find(':') != std::string::npos;
            stream_sources.emplace(id, fmt::format("sip:{}{}{}:{};transport=tcp", v6 ? "[" : "",
                                                   invite.source_ip, v6 ? "]" : "",
                                                   invite.source_port));
        }
        if (allows_update(sip)) nua_set_hparams(nh, NUTAG_UPDATE_REFRESH(1), TAG_END());
        if (sip && sip_has_supported(sip->sip_supported, "timer")) timer_peers.insert(id);
        events.on_invite(invite);
    }

    // Our Contact for a dialog on `transport` ("tcp"): the announced address and port.
    std::string contact_for(std::string_view transport) const {
        const auto& host = config.contact_host.empty() ? config.listen_host : config.contact_host;
        const bool v6 = host.find(':') != std::string::npos;
        return fmt::format("<sip:{}{}{}:{};transport={}>", v6 ? "[" : "", host, v6 ? "]" : "",
                           config.listen_port, transport);
    }

    static std::string body_of(sip_t const* sip) {
        if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_data == nullptr) {
            return {};
        }
        return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    }

    // INFO (RFC 6086) is answered here, inside the event: NUTAG_WITH_THIS names the request
    // being delivered. DTMF bodies reach the call; anything else is refused, never ignored.
    void handle_info(nua_t* nua_, nua_handle_t* nh, void* hmagic, sip_t const* sip) {
        if (hmagic == nullptr) {  // outside any dialog of ours
            nua_respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua_), TAG_END());
            nua_handle_destroy(nh);
            return;
        }
        const std::string type =
            sip && sip->sip_content_type && sip->sip_content_type->c_type
                ? sip->sip_content_type->c_type
                : "";
        if (type.empty() && body_of(sip).empty()) {
            // An empty INFO is a keep-alive probe (RFC 6086 §4.2.2 allows it).
            nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua_), TAG_END());
            return;
        }
        if (!is_dtmf_info_type(type)) {
            nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA,
                        SIPTAG_ACCEPT_STR("application/dtmf-relay, application/dtmf"),
                        NUTAG_WITH_THIS(nua_), TAG_END());
            return;
        }
        const auto digit = parse_dtmf_info(type, body_of(sip));
        if (!digit) {
            nua_respond(nh, 400, "Bad DTMF Body", NUTAG_WITH_THIS(nua_), TAG_END());
            return;
        }
        nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua_), TAG_END());
        events.on_info_dtmf(id_of(hmagic), digit->digit, digit->duration_ms);
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
        if (status >= 200 && status < 300 && allows_update(sip)) {
            nua_set_hparams(nh, NUTAG_UPDATE_REFRESH(1), TAG_END());
        }
        events.on_response(id, status, phrase, body_of(sip), origin_of(sip));
    }

    void do_invite(DialogId id, const OutboundInvite& invite) {
        nua_handle_t* nh = nua_handle(nua, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
                                      NUTAG_URL(invite.request_uri.c_str()),
                                      TAG_IF(!invite.call_id.empty(),
                                             SIPTAG_CALL_ID_STR(invite.call_id.c_str())),
                                      SIPTAG_TO_STR(invite.request_uri.c_str()),
                                      SIPTAG_FROM_STR(invite.from_uri.c_str()), TAG_END());
        if (nh == nullptr) {
            events.on_response(id, 500, "cannot create a SIP handle", {}, ResponseOrigin::kLocal);
            events.on_terminated(id, 500, "cannot create a SIP handle");
            return;
        }
        dialogs.emplace(id, nh);
        outbound.emplace(id, invite);
        if (uri_says_tcp(invite.request_uri)) stream_contacts.emplace(id, contact_for("tcp"));
        const auto contact = stream_contacts.find(id);
        std::string headers;
        for (const auto& h : invite.headers) headers += h.name + ": " + h.value + "\r\n";
        nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                   SIPTAG_PAYLOAD_STR(invite.sdp.c_str()),
                   TAG_IF(contact != stream_contacts.end(),
                          SIPTAG_CONTACT_STR(contact != stream_contacts.end()
                                                 ? contact->second.c_str()
                                                 : nullptr)),
                   TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
    }

    void do_options(DialogId id, OptionsRequest request, std::function<void(OptionsResult)> done) {
        nua_handle_t* nh = nua_handle(
            nua, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
            NUTAG_URL(request.request_uri.c_str()),
            TAG_IF(!request.call_id.empty(), SIPTAG_CALL_ID_STR(request.call_id.c_str())),
            SIPTAG_TO_STR(request.request_uri.c_str()), TAG_END());
        if (nh == nullptr) {
            OptionsResult failed;
            failed.status = 500;
            failed.phrase = "cannot create a SIP handle";
            return done(failed);
        }
        auto& probe = options_probes[id];
        probe.request = std::move(request);
        probe.done = std::move(done);
        probe.sent = std::chrono::steady_clock::now();
        nua_options(nh, TAG_END());
    }

    void handle_options_response(DialogId id,
                                 nua_handle_t* nh,
                                 int status,
                                 const std::string& phrase,
                                 sip_t const* sip) {
        const auto it = options_probes.find(id);
        if (it == options_probes.end() || status < 200) return;
        auto& probe = it->second;
        auto& result = probe.result;
        const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - probe.sent);
        if (!result.credentials_sent) {
            result.status = status;
            result.phrase = phrase;
            result.origin = origin_of(sip);
            result.round_trip = elapsed;
            if ((status == 401 || status == 407) && result.origin == ResponseOrigin::kNetwork) {
                result.realm = realm_of(sip);
                if (!probe.request.auth_username.empty()) {
                    result.credentials_sent = true;
                    auto realm = result.realm.empty() ? std::string("\"\"") : result.realm;
                    const auto auth =
                        fmt::format("Digest:{}:{}:{}", realm, probe.request.auth_username,
                                    probe.request.auth_password);
                    nua_authenticate(nh, NUTAG_AUTH(auth.c_str()), TAG_END());
                    return;
                }
            }
        } else {
            result.status_after_credentials = status;
            result.phrase_after_credentials = phrase;
            result.origin_after_credentials = origin_of(sip);
        }
        auto done = std::move(probe.done);
        auto final_result = std::move(result);
        options_probes.erase(it);
        nua_handle_bind(nh, nullptr);
        nua_handle_destroy(nh);
        if (done) done(std::move(final_result));
    }

    void do_reply(DialogId id, const Reply& reply) {
        const auto it = dialogs.find(id);
        if (it == dialogs.end()) return;  // the dialog ended meanwhile (CANCEL, BYE)
        nua_handle_t* nh = it->second;
        std::string headers;
        for (const auto& h : reply.headers) headers += h.name + ": " + h.value + "\r\n";
        // nua_respond keeps the phrase pointer (it copies only the tags) and builds the
        // response later, from its own event queue: the phrase must outlive this call. A copy
        // in the handle's memory home lives exactly as long as the handle; standard phrases are
        // static.
        const char* phrase = reply.phrase.empty() ? sip_status_phrase(reply.status)
                                                  : su_strdup(nua_handle_home(nh),
                                                              reply.phrase.c_str());
        if (phrase == nullptr) phrase = "";
        const auto contact = stream_contacts.find(id);
        const bool with_contact = contact != stream_contacts.end() && reply.status < 300;
        const bool require_timer =
            reply.status >= 200 && reply.status < 300 && timer_peers.count(id) > 0;
        nua_respond(nh, reply.status, phrase,
                    TAG_IF(!reply.sdp.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                    TAG_IF(!reply.sdp.empty(), SIPTAG_PAYLOAD_STR(reply.sdp.c_str())),
                    TAG_IF(with_contact,
                           SIPTAG_CONTACT_STR(with_contact ? contact->second.c_str() : nullptr)),
                    TAG_IF(require_timer, SIPTAG_REQUIRE_STR("timer")),
                    TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
    }

    static bool uri_says_tcp(std::string_view uri) {
        std::string lower(uri);
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return lower.find(";transport=tcp") != std::string::npos;
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

    // Sends `send` (our request on a TCP dialog) over the connection the dialog came in on when
    // that connection is still open: the handle's next hop is set to it for this one request
    // (nua signals run in order), then cleared, so nothing later (a session refresh after the
    // connection closed) is sent to a port that no longer exists.
    template <typename Send>
    void over_dialog_connection(DialogId id, nua_handle_t* nh, Send send) {
        const auto source = stream_sources.find(id);
        url_t* hop = nullptr;
        if (source != stream_sources.end()) {
            url_t* parsed = url_make(nua_handle_home(nh), source->second.c_str());
            if (parsed && parsed->url_port &&
                tcp_connection_established(config.listen_port, parsed->url_host,
                                           std::atoi(parsed->url_port))) {
                hop = parsed;
            }
        }
        if (hop) nua_set_hparams(nh, NUTAG_PROXY(hop), TAG_END());
        send();
        if (hop) nua_set_hparams(nh, NUTAG_PROXY(nullptr), TAG_END());
    }

    void do_refer(DialogId id, const std::string& refer_to, const std::string& referred_by) {
        const auto it = dialogs.find(id);
        if (it == dialogs.end()) return;
        over_dialog_connection(id, it->second, [&] {
            nua_refer(it->second, SIPTAG_REFER_TO_STR(refer_to.c_str()),
                      TAG_IF(!referred_by.empty(), SIPTAG_REFERRED_BY_STR(referred_by.c_str())),
                      TAG_END());
        });
    }

    void do_bye(DialogId id) {
        const auto it = dialogs.find(id);
        if (it == dialogs.end()) return;
        app_byes.insert(id);
        if (outbound.count(id) && !nua_handle_has_active_call(it->second)) {
            nua_cancel(it->second, TAG_END());
        } else {
            over_dialog_connection(id, it->second, [&] { nua_bye(it->second, TAG_END()); });
        }
    }

    void begin_shutdown() {
        shutting_down = true;
        for (const auto& [id, nh] : dialogs) {
            app_byes.insert(id);
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
        redirect_sofia_logs(spdlog::get_level());
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
                         NUTAG_ENABLEMESSAGE(0),
                         // Session timers (RFC 4028): we ask for 30 minutes, accept down to
                         // 90 s (422 below), keep the refresher the peer asks for, and refresh
                         // with UPDATE where the peer allows it (set per dialog).
                         NUTAG_SESSION_TIMER(kSessionExpires), NUTAG_MIN_SE(kMinSessionExpires),
                         NUTAG_SESSION_REFRESHER(nua_any_refresher), NUTAG_UPDATE_REFRESH(0),
                         // We answer INFO ourselves (DTMF or 415), not the stack's blind 200.
                         NUTAG_APPL_METHOD("INFO"),
                         // Untrusted TCP peers: close idle and stuck connections in seconds
                         // (sofia's default idle time is 30 minutes).
                         TPTAG_IDLE(static_cast<unsigned>(config.tcp_idle_timeout.count())),
                         TPTAG_TIMEOUT(
                             static_cast<unsigned>(config.incomplete_message_timeout.count())),
                         // RFC 5626 §3.5.1: a CRLFCRLF ping on a TCP flow gets its CRLF pong.
                         TPTAG_PONG2PING(1),
                         // Every message through tport_log_msg (our capture, below).
                         TPTAG_LOG(config.capture != nullptr),
                         // Exactly the methods we handle: NUTAG_ALLOW would add to NUA's own
                         // list (MESSAGE, SUBSCRIBE, REFER, ...), which we do not implement.
                         SIPTAG_ALLOW_STR(config.allow.c_str()), SIPTAG_SUPPORTED_STR("timer, 100rel"),
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
        stalled_connections_closer.store(this);
        if (config.capture) capturing_stack.store(this);
        su_root_run(root);
        if (config.capture) capturing_stack.store(nullptr);
        stalled_connections_closer.store(nullptr);
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

void SipStack::options(OptionsRequest request, std::function<void(OptionsResult)> done) {
    const DialogId id = impl_->next_dialog++;
    impl_->post([impl = impl_.get(), id, request = std::move(request),
                 done = std::move(done)]() mutable {
        impl->do_options(id, std::move(request), std::move(done));
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

// sofia-sip stops reading a TCP connection after a message it cannot parse (there is no way to
// find the next message in the stream, RFC 3261 §18.3) but keeps the connection open until its
// idle timer: one descriptor held per bad connection. tport_stall is how its parser stops
// reading (tport_parse calls it only for a stream with a framing error or an oversized
// message), and sofia calls it through its PLT, so this definition, exported from the
// executable (src/app/CMakeLists.txt, --dynamic-list), takes its place: sofia's own stall, then
// the connection is closed on the next turn of the SIP thread.
extern "C" int tport_stall(tport_t* self) {
    using Stall = int (*)(tport_t*);
    static const auto sofia_stall = reinterpret_cast<Stall>(dlsym(RTLD_NEXT, "tport_stall"));
    const int result = sofia_stall ? sofia_stall(self) : -1;
    auto* closer = tl::sip::stalled_connections_closer.load();
    if (closer && self && tport_is_stream(self) && tport_is_secondary(self)) {
        closer->close_stalled(self);
    }
    return result;
}


// With TPTAG_LOG on, sofia-sip hands every message it sends or receives to tport_log_msg, which
// would print it through its own logger; sofia calls it through its PLT, so this definition,
// exported from the executable like tport_stall, takes its place and feeds the per-call SIP
// capture instead (sofia's printing is not wanted: the capture is the trace). `what` is "recv"
// for a received message, "send"/"sent" for ours. On the SIP thread.
extern "C" void tport_log_msg(tport_t* self,
                              msg_t* msg,
                              char const* what,
                              char const* /*via*/,
                              su_time_t /*now*/) {
    auto* stack = tl::sip::capturing_stack.load();
    if (stack == nullptr || self == nullptr || msg == nullptr || what == nullptr) return;
    stack->capture_message(self, msg, what[0] == 'r');
}
