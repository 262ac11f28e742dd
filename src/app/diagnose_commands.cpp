#include "app/diagnose_commands.hpp"

#include "api/assistant_check.hpp"
#include "api/trunk_test_report.hpp"
#include "app/data_dir.hpp"
#include "app/sip_edge.hpp"
#include "sip/capture/capture_json.hpp"
#include "sip/capture/ladder.hpp"
#include "sip/capture/pcap.hpp"
#include "sip/sip_capture_registry.hpp"
#include "sip/stack/sip_stack.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <optional>
#include <iostream>
#include <sstream>

namespace tl::app {
namespace {

namespace json = boost::json;

// The record `id` of whichever organization holds it: the CLI works on the data directory, with
// no organization to scope by. nullopt when none does.
template <typename Record>
Result<std::optional<Record>> find_in_any_organization(
    store::Store& store, const std::function<Result<Record>(const std::string& org_id)>& get) {
    auto orgs = store.list_organizations();
    if (!orgs) return orgs.error();
    for (const auto& org : *orgs) {
        if (auto found = get(org.id)) return std::optional<Record>(std::move(*found));
    }
    return std::optional<Record>();
}

int fail(const std::string& message) {
    std::cerr << "trunkline: " << message << "\n";
    return 1;
}

// The stack of `trunk test` raises no calls: every event is ignored.
class IgnoreEvents final : public sip::SipEvents {
public:
    void on_invite(const sip::InviteRequest&) override {}
    void on_reinvite(sip::DialogId, const sip::InviteRequest&) override {}
    void on_ack(sip::DialogId, const std::string&) override {}
    void on_cancel(sip::DialogId) override {}
    void on_bye(sip::DialogId) override {}
    void on_terminated(sip::DialogId, int, const std::string&) override {}
};

std::string text_of(const json::value* v) {
    if (v == nullptr || v->is_null()) return "-";
    if (v->is_string()) return std::string(v->as_string());
    return json::serialize(*v);
}

void print_report(const json::object& report) {
    std::cout << "result: " << text_of(report.if_contains("result")) << "\n";
    for (const auto& item : report.at("steps").as_array()) {
        const auto& step = item.as_object();
        std::cout << fmt::format("\n[{}] {}: {}\n", text_of(step.if_contains("status")),
                                 text_of(step.if_contains("name")),
                                 text_of(step.if_contains("hint")));
        if (const auto* rtt = step.if_contains("rtt_ms")) {
            std::cout << fmt::format("    round trip {:.1f} ms\n", rtt->to_number<double>());
        }
        std::istringstream exchange(text_of(step.if_contains("exchange")));
        for (std::string line; std::getline(exchange, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::cout << "    " << line << "\n";
        }
    }
    const auto* inbound = report.if_contains("inbound");
    if (inbound == nullptr || !inbound->is_object()) return;
    const auto& in = inbound->as_object();
    std::cout << "\ninbound: " << text_of(in.if_contains("instructions")) << "\n";
    std::cout << "    numbers: " << text_of(in.if_contains("numbers")) << "\n";
    std::cout << "    last inbound calls:\n";
    for (const auto& item : in.at("recent_attempts").as_array()) {
        const auto& a = item.as_object();
        std::cout << fmt::format("    {}  {:<7} {:<20} sip {}  from {}  call {}\n",
                                 text_of(a.if_contains("created_at")),
                                 text_of(a.if_contains("status")),
                                 text_of(a.if_contains("end_reason")),
                                 text_of(a.if_contains("sip_code")),
                                 text_of(a.if_contains("caller")),
                                 text_of(a.if_contains("call_id")));
    }
}

}  // namespace

std::string sip_endpoint_file(const std::string& data_dir) {
    return (std::filesystem::path(data_dir) / "sip-endpoint").string();
}

int calls_sip(const std::string& data_dir, const std::string& call_id, const std::string& format) {
    if (format != "ladder" && format != "json" && format != "pcap") {
        return fail("--format must be ladder, json or pcap");
    }
    auto store = open_data_dir_store(data_dir);
    if (!store) return fail(store.error().message);
    auto orgs = (*store)->list_organizations();
    if (!orgs) return fail(orgs.error().message);
    for (const auto& org : *orgs) {
        auto stored = (*store)->get_call_capture(org.id, call_id);
        if (!stored) {
            if (stored.error().code == Errc::kNotFound) continue;
            return fail(stored.error().message);
        }
        auto capture = sip::capture_from_json(stored->capture_json);
        if (!capture) return fail("the stored capture is unreadable: " + capture.error().message);
        if (format == "json") {
            std::cout << json::serialize(sip::capture_to_json(*capture)) << std::endl;
        } else if (format == "pcap") {
            const auto pcap = sip::write_pcap(*capture);
            std::cout.write(pcap.data(), static_cast<std::streamsize>(pcap.size()));
            std::cout.flush();
        } else {
            std::cout << sip::render_ladder(*capture);
        }
        return 0;
    }
    return fail("no SIP capture stored for call " + call_id +
                ": a call's capture is stored when it ends (while it is live, read it with "
                "GET /api/v1/calls/{id}/sip) and kept --sip-capture-retention-days");
}

int trunk_test(const std::string& data_dir, const std::string& trunk_id, bool json_output) {
    auto store = open_data_dir_store(data_dir);
    if (!store) return fail(store.error().message);
    auto secrets = open_secret_box(data_dir);
    if (!secrets) return fail("master key: " + secrets.error().message);
    auto found = find_in_any_organization<store::SipTrunk>(
        **store, [&](const std::string& org) { return (*store)->get_trunk(org, trunk_id); });
    if (!found) return fail(found.error().message);
    if (!*found) return fail("no SIP trunk " + trunk_id + " in " + data_dir);
    auto& trunk = *found;

    // Our own SIP stack on a free port beside the server's: the probe's OPTIONS come from this
    // machine's address, as the server's do (carriers that filter by address see the same one).
    auto port = pick_free_sip_port("0.0.0.0");
    if (!port) return fail(port.error().message);
    sip::SipCaptureRegistry capture;
    IgnoreEvents events;
    sip::SipStackConfig config;
    config.listen_host = "0.0.0.0";
    config.listen_port = *port;
    config.capture = &capture;
    auto stack = sip::SipStack::start(config, events);
    if (!stack) return fail(stack.error().message);

    std::string endpoint = "(the server's SIP address: printed by `trunkline serve`)";
    if (std::ifstream file(sip_endpoint_file(data_dir)); file) std::getline(file, endpoint);
    api::TrunkTestTools tools{**stack, &capture, "trunkline", endpoint};
    auto report = api::trunk_test_report(**store, *secrets, *trunk, tools);
    (*stack)->stop();
    if (!report) return fail(report.error().message);
    if (json_output) {
        std::cout << json::serialize(*report) << std::endl;
    } else {
        print_report(*report);
    }
    return report->at("result").as_string() == "fail" ? 1 : 0;
}

int assistant_check(const std::string& data_dir, const std::string& assistant_id, bool json_output) {
    auto store = open_data_dir_store(data_dir);
    if (!store) return fail(store.error().message);
    auto secrets = open_secret_box(data_dir);
    if (!secrets) return fail("master key: " + secrets.error().message);
    auto found = find_in_any_organization<store::Assistant>(
        **store, [&](const std::string& org) { return (*store)->get_assistant(org, assistant_id); });
    if (!found) return fail(found.error().message);
    if (!*found) return fail("no assistant " + assistant_id + " in " + data_dir);
    auto& assistant = *found;
    boost::system::error_code ec;
    auto document = json::parse(assistant->config_json, ec);
    if (ec || !document.is_object()) document = json::object();
    auto report = api::check_assistant_providers(
        document.get_object(), api::call_key_lookup(**store, *secrets, assistant->org_id),
        api::AssistantCheckOptions{});
    if (!report) return fail(report.error().message);
    if (json_output) std::cout << json::serialize(*report) << std::endl;
    bool failed = false;
    for (const auto& [slot, value] : *report) {
        const auto& entry = value.as_object();
        const auto status = text_of(entry.if_contains("status"));
        failed = failed || status == "auth_failed" || status == "unreachable";
        if (!json_output) {
            std::cout << fmt::format("{:<4} {:<17} {:<15} {}\n", std::string(slot),
                                     text_of(entry.if_contains("provider")), status,
                                     text_of(entry.if_contains("message")));
        }
    }
    return failed ? 1 : 0;
}

}  // namespace tl::app
