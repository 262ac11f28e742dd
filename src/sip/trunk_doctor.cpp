#include "sip/trunk_doctor.hpp"

#include "net/connect_probe.hpp"
#include "sip/capture/call_capture.hpp"

#include <fmt/format.h>

#include <future>
#include <memory>

namespace tl::sip {
namespace {

std::string host_for_uri(const std::string& host) {
    const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
    return v6 ? "[" + host + "]" : host;
}

std::string endpoint_text(const std::string& ip, int port) {
    return fmt::format("{}:{}", host_for_uri(ip), port);
}

DoctorStep step(std::string name, std::string status, std::string hint, std::string exchange = {}) {
    DoctorStep s;
    s.name = std::move(name);
    s.status = std::move(status);
    s.hint = std::move(hint);
    s.exchange = std::move(exchange);
    return s;
}

int severity(const std::string& status) {
    return status == "fail" ? 2 : status == "warn" ? 1 : 0;
}

// The probe's SIP messages as an operator reads them: direction, peer, transport, then the text.
std::string render_exchange(const CaptureSnapshot& snapshot) {
    std::string out;
    if (snapshot.messages.empty()) return out;
    const auto start = snapshot.messages.front().timestamp;
    for (const auto& m : snapshot.messages) {
        const auto ms = std::chrono::duration<double, std::milli>(m.timestamp - start).count();
        out += fmt::format("{} {} {} ({}) +{:.1f} ms\n", m.direction == Direction::kOut ? "-->" : "<--",
                           m.direction == Direction::kOut ? "to" : "from",
                           endpoint_text(m.remote_ip, m.remote_port), m.transport, ms);
        out += m.raw;
        if (!out.empty() && out.back() != '\n') out += '\n';
        out += '\n';
    }
    return out;
}

std::optional<OptionsResult> send_options(const DoctorTools& tools,
                                          OptionsRequest request,
                                          std::chrono::milliseconds wait) {
    auto promise = std::make_shared<std::promise<OptionsResult>>();
    auto future = promise->get_future();
    tools.stack.options(std::move(request), [promise](OptionsResult result) {
        promise->set_value(std::move(result));
    });
    if (future.wait_for(wait) != std::future_status::ready) return std::nullopt;
    return future.get();
}

DoctorStep options_step(const TrunkUnderTest& trunk,
                        const std::optional<OptionsResult>& result,
                        const std::string& target,
                        std::chrono::milliseconds timeout,
                        std::string exchange) {
    if (!result) {
        return step("options", "fail",
                    fmt::format("no response from {} within {} s: check the host, port and "
                                "transport, and that firewalls let SIP through both ways",
                                target, timeout.count() / 1000.0),
                    std::move(exchange));
    }
    const auto& r = *result;
    if (r.origin == ResponseOrigin::kLocal) {
        if (r.status == 503 && r.phrase.find("DNS") != std::string::npos) {
            return step("options", "fail",
                        fmt::format("the host {} does not resolve for the SIP stack", trunk.host),
                        std::move(exchange));
        }
        if (r.status == 408) {
            return step("options", "fail",
                        fmt::format("no response from {}: check the host, port and transport, "
                                    "and that firewalls let SIP through both ways",
                                    target),
                        std::move(exchange));
        }
        return step("options", "fail",
                    fmt::format("nothing accepted SIP at {} (connection refused or unreachable): "
                                "check the trunk's host, port and transport, and that the PBX or "
                                "carrier is running",
                                target),
                    std::move(exchange));
    }
    DoctorStep s;
    const double rtt = static_cast<double>(r.round_trip.count()) / 1000.0;
    const auto answered = fmt::format("{} answered {} {} in {:.1f} ms", target, r.status, r.phrase, rtt);
    if (r.status < 300) {
        s = step("options", "pass", answered, std::move(exchange));
    } else if (r.status == 401 || r.status == 407) {
        s = step("options", "pass", answered + " (a challenge: it is reachable and wants credentials)",
                 std::move(exchange));
    } else {
        s = step("options", "warn",
                 answered + ": it is reachable but does not accept OPTIONS from us; calls may "
                            "still work (403 can mean it accepts calls only from known addresses)",
                 std::move(exchange));
    }
    s.rtt_ms = rtt;
    return s;
}

std::optional<DoctorStep> credentials_step(const TrunkUnderTest& trunk,
                                           const std::optional<OptionsResult>& result,
                                           const std::string& target) {
    if (!result || result->origin != ResponseOrigin::kNetwork) return std::nullopt;
    const auto& r = *result;
    const bool challenged = r.status == 401 || r.status == 407;
    if (trunk.username.empty()) {
        if (!challenged) return std::nullopt;
        return step("credentials", "fail",
                    fmt::format("{} asks for credentials ({} {}) and the trunk has none: set the "
                                "trunk's username and password",
                                target, r.status, r.phrase));
    }
    if (!challenged) {
        return step("credentials", "warn",
                    fmt::format("{} did not challenge OPTIONS, so the credentials of user {} "
                                "could not be verified without placing a call",
                                target, trunk.username));
    }
    if (!r.credentials_sent || r.origin_after_credentials != ResponseOrigin::kNetwork) {
        return step("credentials", "warn",
                    fmt::format("{} did not answer the OPTIONS with our credentials ({} {})",
                                target, r.status_after_credentials, r.phrase_after_credentials));
    }
    const int after = r.status_after_credentials;
    if (after == 401 || after == 407 || after == 403) {
        return step("credentials", "fail",
                    fmt::format("{} refused our credentials for user {} ({} {}): check the "
                                "trunk's username and password",
                                target, trunk.username, after, r.phrase_after_credentials));
    }
    return step("credentials", "pass",
                fmt::format("{} accepted the credentials of user {} ({} {})", target,
                            trunk.username, after, r.phrase_after_credentials));
}

}  // namespace

DoctorReport examine_trunk(const TrunkUnderTest& trunk, const DoctorTools& tools) {
    DoctorReport report;
    auto finish = [&report] {
        int worst = 0;
        for (const auto& s : report.steps) worst = std::max(worst, severity(s.status));
        report.result = worst == 2 ? "fail" : worst == 1 ? "warn" : "pass";
        return report;
    };

    SipResolveQuery query;
    query.host = trunk.host;
    query.port = trunk.port;  // calls name the port, so only A/AAAA apply (RFC 3263 §4.2)
    query.transport = trunk.transport;
    query.timeout = tools.timeout;
    query.nameserver = tools.nameserver;
    auto resolved = resolve_sip_server(query);
    if (!resolved || resolved->addresses.empty()) {
        report.steps.push_back(step(
            "dns", "fail",
            (resolved ? fmt::format("{} has no usable address", trunk.host)
                      : resolved.error().message) +
                ": check the trunk's host name, or the DNS servers of the machine Trunkline runs on"));
        return finish();
    }
    std::string looked_up;
    for (const auto& line : resolved->steps) looked_up += line + "\n";
    std::string addresses;
    for (const auto& a : resolved->addresses) {
        addresses += (addresses.empty() ? "" : ", ") + endpoint_text(a.ip, a.port);
    }
    report.steps.push_back(step("dns", "pass",
                                fmt::format("{} resolves to {}", trunk.host, addresses),
                                looked_up));
    const auto& first = resolved->addresses.front();
    const auto target = endpoint_text(first.ip, first.port);

    if (trunk.transport == "tcp" || trunk.transport == "tls") {
        auto connected = net::probe_tcp_connect(first.ip, first.port, tools.timeout);
        if (!connected) {
            report.steps.push_back(step(
                "connect", "fail",
                fmt::format("cannot open a TCP connection: {}; check the port and transport, and "
                            "that a firewall lets TCP through",
                            connected.error().message)));
            return finish();
        }
        report.steps.push_back(
            step("connect", "pass",
                 fmt::format("TCP connection to {} opened in {:.1f} ms", target,
                             static_cast<double>(connected->elapsed.count()) / 1000.0)));
    }
    if (trunk.transport == "tls") {
        auto tls = net::probe_tls_handshake(first.ip, first.port, trunk.host, tools.tls_ca_file,
                                            tools.timeout);
        if (!tls) {
            report.steps.push_back(
                step("tls", "fail",
                     fmt::format("the TLS handshake failed: {}", tls.error().message)));
            return finish();
        }
        std::string names;
        for (const auto& n : tls->subject_alt_names) names += (names.empty() ? "" : ", ") + n;
        const auto details = fmt::format(
            "{} {}\nsubject: CN={}\nalternative names: {}\nissuer: CN={}\nnot after: {}\n",
            tls->version, tls->cipher, tls->subject_cn, names, tls->issuer_cn, tls->not_after);
        if (!tls->verified) {
            report.steps.push_back(step(
                "tls", "fail",
                fmt::format("{}'s certificate is not trusted: {}; calls would fail the same "
                            "check",
                            trunk.host, tls->verify_error),
                details));
            return finish();
        }
        report.steps.push_back(step("tls", "pass",
                                    fmt::format("{} presented a valid certificate for {}", target,
                                                trunk.host),
                                    details));
        // SIP over TLS is not in the SIP stack yet: nothing more can be tried without it.
        report.steps.push_back(step("options", "warn",
                                    "this server does not send SIP over TLS yet, so OPTIONS was "
                                    "not tried; use udp or tcp for this trunk meanwhile"));
        return finish();
    }

    OptionsRequest request;
    request.request_uri = fmt::format("sip:{}:{}{}", host_for_uri(trunk.host), trunk.port,
                                      trunk.transport == "tcp" ? ";transport=tcp" : "");
    request.call_id = new_call_id(tools.local_host.empty() ? "trunkline" : tools.local_host);
    request.auth_username = trunk.username;
    request.auth_password = trunk.password;
    auto capture = std::make_shared<CallCapture>();
    if (tools.capture) tools.capture->attach(request.call_id, capture);
    const auto wait = trunk.username.empty() ? tools.timeout : tools.timeout * 2;
    const auto call_id = request.call_id;
    const auto result = send_options(tools, std::move(request), wait);
    if (tools.capture) tools.capture->detach(call_id, capture);
    const auto exchange = render_exchange(capture->snapshot());
    auto options = options_step(trunk, result, target, tools.timeout, exchange);
    report.steps.push_back(options);
    if (auto credentials = credentials_step(trunk, result, target)) {
        // The challenge and our answer to it are the credentials' exchange; without a
        // challenge the OPTIONS step shows all there was.
        if (result && result->credentials_sent) credentials->exchange = exchange;
        report.steps.push_back(std::move(*credentials));
    }
    return finish();
}

}  // namespace tl::sip
