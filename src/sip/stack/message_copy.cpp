#include "sip/stack/message_copy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace tl::sip {
namespace {

std::string str(const char* s) {
    return s ? std::string(s) : std::string();
}

std::string url_text(const url_t* url) {
    if (url == nullptr) return {};
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char* text = url_as_string(home, url);
    std::string out = str(text);
    su_home_deinit(home);
    return out;
}

void copy_source(nua_t* nua, InviteRequest& out) {
    msg_t* msg = nua_current_request(nua);
    if (msg == nullptr) return;
    const su_addrinfo_t* ai = msg_addrinfo(msg);
    if (ai == nullptr || ai->ai_addr == nullptr) return;
    char text[INET6_ADDRSTRLEN] = {};
    const auto* sa = reinterpret_cast<const sockaddr*>(ai->ai_addr);
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        out.source_port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        out.source_port = ntohs(in6->sin6_port);
        // IPv4-mapped addresses are IPv4 for allow-lists.
        std::string s(text);
        if (s.rfind("::ffff:", 0) == 0 && s.find('.') != std::string::npos) {
            out.source_ip = s.substr(7);
        }
    }
    if (out.source_ip.empty()) out.source_ip = text;
    out.transport = ai->ai_protocol == IPPROTO_TCP ? "tcp" : "udp";
}

}  // namespace

InviteRequest copy_invite(nua_t* nua, DialogId dialog, sip_t const* sip) {
    InviteRequest out;
    out.dialog = dialog;
    copy_source(nua, out);
    if (sip == nullptr) return out;
    if (sip->sip_call_id) out.call_id = str(sip->sip_call_id->i_id);
    if (sip->sip_request) {
        out.method = str(sip->sip_request->rq_method_name);
        out.request_uri = url_text(sip->sip_request->rq_url);
        out.request_user = str(sip->sip_request->rq_url->url_user);
    }
    if (sip->sip_to) {
        out.to_uri = url_text(sip->sip_to->a_url);
        out.to_user = str(sip->sip_to->a_url->url_user);
    }
    if (sip->sip_from) {
        out.from_uri = url_text(sip->sip_from->a_url);
        out.from_user = str(sip->sip_from->a_url->url_user);
        out.from_display = str(sip->sip_from->a_display);
    }
    for (const sip_unknown_t* h = sip->sip_unknown; h; h = h->un_next) {
        out.extra_headers.push_back({str(h->un_name), str(h->un_value)});
    }
    for (const sip_authorization_t* au = sip->sip_authorization; au; au = au->au_next) {
        std::string value = str(au->au_scheme);
        bool first = true;
        for (auto p = au->au_params; p && *p; ++p) {
            value += first ? " " : ", ";
            value += *p;
            first = false;
        }
        out.authorization.push_back(std::move(value));
    }
    if (sip->sip_content_type) out.content_type = str(sip->sip_content_type->c_type);
    if (sip->sip_payload && sip->sip_payload->pl_data) {
        out.body.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    }
    return out;
}

}  // namespace tl::sip
