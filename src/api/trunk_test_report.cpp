#include "api/trunk_test_report.hpp"

#include "sip/trunk_doctor.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tl::api {
namespace {

namespace json = boost::json;

json::value opt(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object step_json(const sip::DoctorStep& step) {
    json::object o;
    o["name"] = step.name;
    o["status"] = step.status;
    o["hint"] = step.hint;
    o["exchange"] = step.exchange;
    if (step.rtt_ms) o["rtt_ms"] = *step.rtt_ms;
    return o;
}

// What the carrier or PBX must be told to send calls to this trunk, and what came of the last
// calls it sent.
Result<json::object> inbound_json(store::Store& store,
                                  const store::SipTrunk& trunk,
                                  const TrunkTestTools& tools) {
    json::object o;
    o["endpoint"] = tools.sip_endpoint;
    o["transport"] = trunk.transport == "tls" ? "udp" : trunk.transport;
    o["auth_type"] = trunk.auth_type;
    if (trunk.auth_type == "digest") {
        o["username"] = opt(trunk.inbound_username);
        o["instructions"] = fmt::format(
            "Point the carrier's calls for these numbers at {} ({}); it must answer our digest "
            "challenge as user {} with the password shown when the trunk was created.",
            tools.sip_endpoint, trunk.transport == "tcp" ? "TCP" : "UDP or TCP",
            trunk.inbound_username.value_or("(none)"));
    } else {
        std::string addresses;
        for (const auto& a : trunk.allowed_addresses) addresses += (addresses.empty() ? "" : ", ") + a;
        o["instructions"] = fmt::format(
            "Point the carrier's calls for these numbers at {}; they are accepted only from {}.",
            tools.sip_endpoint, addresses.empty() ? "(no address set)" : addresses);
    }
    o["allowed_addresses"] = json::array(trunk.allowed_addresses.begin(), trunk.allowed_addresses.end());
    // The DIDs the carrier may send: the trunk's own list, else every number of the
    // organization (a trunk without `numbers` accepts calls for any of them).
    json::array numbers(trunk.numbers.begin(), trunk.numbers.end());
    if (trunk.numbers.empty()) {
        auto owned = store.list_numbers(trunk.org_id);
        if (!owned) return owned.error();
        for (const auto& n : *owned) numbers.push_back(json::string(n.phone_number));
    }
    o["numbers"] = std::move(numbers);
    store::CallFilter filter;
    filter.trunk_id = trunk.id;
    filter.limit = kRecentInboundAttempts;
    auto page = store.list_calls(trunk.org_id, filter);
    if (!page) return page.error();
    json::array attempts;
    for (const auto& c : page->calls) {
        if (c.direction != "inbound") continue;
        attempts.push_back(json::object{
            {"call_id", c.id},
            {"created_at", c.created_at},
            {"status", c.status},
            {"end_reason", opt(c.end_reason)},
            {"sip_code", c.sip_status ? json::value(*c.sip_status) : json::value(nullptr)},
            {"caller", opt(c.caller_phone)},
            {"dialled", opt(c.assistant_phone)}});
    }
    o["recent_attempts"] = std::move(attempts);
    return o;
}

}  // namespace

Result<json::object> trunk_test_report(store::Store& store,
                                       const store::SecretBox& secrets,
                                       const store::SipTrunk& trunk,
                                       const TrunkTestTools& tools) {
    json::object report;
    json::array steps;
    std::string result = "pass";
    if (trunk.direction != "inbound") {
        sip::TrunkUnderTest under_test;
        under_test.host = trunk.host;
        under_test.port = trunk.port;
        under_test.transport = trunk.transport;
        if (trunk.auth_type == "digest" && trunk.username && trunk.password_sealed) {
            auto password = secrets.unseal(*trunk.password_sealed);
            if (!password) {
                return make_error(Errc::kInternal,
                                  "the trunk's password cannot be unsealed (was the master key "
                                  "changed?)");
            }
            under_test.username = trunk.auth_username.value_or(*trunk.username);
            under_test.password = std::move(*password);
        }
        sip::DoctorTools doctor{tools.stack, tools.capture, tools.local_host, tools.timeout};
        const auto examined = sip::examine_trunk(under_test, doctor);
        for (const auto& s : examined.steps) steps.push_back(step_json(s));
        result = examined.result;
    }
    report["result"] = result;
    report["steps"] = std::move(steps);
    if (trunk.direction != "outbound") {
        auto inbound = inbound_json(store, trunk, tools);
        if (!inbound) return inbound.error();
        report["inbound"] = std::move(*inbound);
    } else {
        report["inbound"] = nullptr;
    }
    return report;
}

}  // namespace tl::api
