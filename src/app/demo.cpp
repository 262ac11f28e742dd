#include "app/demo.hpp"

#include "api/api_keys.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"

#include <fmt/format.h>

namespace tl::app {

namespace {

// The demo assistant converses with no network, with the embedded engines named explicitly (so
// GET /assistants/{id}/check reports each of them): scripted rules, PocketSphinx listening for
// their words, espeak-ng speaking. Asked for a person (or on key 0: a key press counts as saying the digit) it transfers
// the caller, by a bridge, to the test phone answering at kDemoAgentUri; a sip: destination is
// dialled directly, so no transfer trunk is needed.
std::string demo_assistant_config() {
    constexpr std::string_view kBeforeUri =
        R"({"first_message":"Welcome to Acme support, how can I help you?",)"
        R"("end_call_message":"Thank you for calling Acme. Goodbye.",)"
        R"("stt_config":{"provider":"pocketsphinx","language":"en"},)"
        R"("tts_config":{"provider":"espeak-ng","language":"en"},)"
        R"("llm_config":{"provider":"scripted","tools":[{"type":"end_call"},)"
        R"({"type":"transfer_call","destinations":[{"type":"sip","sip_uri":")";
    constexpr std::string_view kAfterUri =
        R"(","description":"a human agent"}]}],"rules":[)"
        R"({"when":["person","agent","human","0"],"reply":"Putting you through to an agent.",)"
        R"("tool":{"name":"transfer_call","destination":"agent"}},)"
        R"({"when":["sales","support"],"reply":"I can help with that. )"
        R"(Say goodbye when you are done."},)"
        R"({"when":["goodbye"],"tool":{"name":"end_call"}}],)"
        R"("default_reply":"In this demo I understand sales, a person, and goodbye."}})";
    return std::string(kBeforeUri) + kDemoAgentUri + std::string(kAfterUri);
}

// Demo configurations earlier versions stored: a restart upgrades them to the current one.
// Anything else was changed through the API and is kept.
constexpr std::string_view kEarlierDemoConfigs[] = {
    R"({"first_message":"Welcome to Acme support, how can I help you?",)"
    R"("end_call_message":"Thank you for calling Acme. Goodbye.",)"
    R"("tts_config":{"language":"en"},)"
    R"("llm_config":{"provider":"scripted","tools":[{"type":"end_call"}],"rules":[)"
    R"({"when":["sales","support"],"reply":"I can help with that. )"
    R"(Say goodbye when you are done."},)"
    R"({"when":["goodbye"],"tool":{"name":"end_call"}}],)"
    R"("default_reply":"In this demo I understand sales, and goodbye."}})",
};

bool is_earlier_demo_config(const std::string& config) {
    for (const auto earlier : kEarlierDemoConfigs) {
        if (config == earlier) return true;
    }
    return false;
}

Result<store::Assistant> create_demo_assistant(store::Store& store, const std::string& org_id) {
    store::Assistant assistant;
    assistant.id = new_uuid();
    assistant.org_id = org_id;
    assistant.name = "Demo Assistant";
    assistant.config_json = demo_assistant_config();
    assistant.created_at = assistant.updated_at = now_iso8601();
    if (auto st = store.create_assistant(assistant); !st) return st.error();
    return assistant;
}

// The demo line exists (an earlier start): give it an assistant again if it lost its own, and
// bring a demo assistant stored by an earlier version up to date.
Status update_demo_line(store::Store& store, const std::string& org_id, store::PhoneNumber number) {
    if (number.org_id != org_id) return {};  // someone else's number now: not ours to change
    if (number.assistant_id) {
        auto assistant = store.get_assistant(org_id, *number.assistant_id);
        if (!assistant) return assistant.error();
        if (!is_earlier_demo_config(assistant->config_json)) return {};
        assistant->config_json = demo_assistant_config();
        assistant->updated_at = now_iso8601();
        return store.update_assistant(*assistant);
    }
    auto assistant = create_demo_assistant(store, org_id);
    if (!assistant) return assistant.error();
    number.assistant_id = assistant->id;
    number.updated_at = now_iso8601();
    return store.update_number(number);
}

}  // namespace

Result<DemoSetup> ensure_demo(store::Store& store) {
    auto org = api::ensure_organization(store, "demo");
    if (!org) return org.error();
    const auto now = now_iso8601();

    auto trunks = store.list_trunks(org->id);
    if (!trunks) return trunks.error();
    if (trunks->empty()) {
        store::SipTrunk trunk;
        trunk.id = new_uuid();
        trunk.org_id = org->id;
        trunk.name = "Local test phone";
        trunk.direction = "inbound";
        trunk.auth_type = "ip";
        trunk.allowed_addresses = {"127.0.0.1"};
        trunk.created_at = trunk.updated_at = now;
        if (auto st = store.create_trunk(trunk); !st) return st.error();
    }
    auto existing = store.find_number_by_e164(kDemoNumber);
    if (existing) {
        if (auto st = update_demo_line(store, org->id, std::move(*existing)); !st) {
            return st.error();
        }
    } else if (existing.error().code != Errc::kNotFound) {
        return existing.error();
    } else {
        auto assistant = create_demo_assistant(store, org->id);
        if (!assistant) return assistant.error();
        store::PhoneNumber number;
        number.id = new_uuid();
        number.org_id = org->id;
        number.phone_number = kDemoNumber;
        number.name = "Demo line";
        number.assistant_id = assistant->id;
        number.created_at = number.updated_at = now;
        if (auto st = store.create_number(number); !st) return st.error();
    }
    auto key = api::issue_api_key(store, org->id);
    if (!key) return key.error();
    return DemoSetup{key->key};
}

std::string demo_text(const std::string& key, const std::string& base, const std::string& sip) {
    const auto host_port = sip.substr(sip.find(':') + 1);
    return fmt::format(
        R"(
Demo organization "demo" is ready. Its API key (shown once):

    export TRUNKLINE_API_KEY={key}

Call the demo assistant ({number}) with the built-in test phone and hear its greeting:

    ./build/src/app/trunkline call sip:{number}@{host_port} --record /tmp/greeting.wav --duration 6
    aplay /tmp/greeting.wav    # or: play /tmp/greeting.wav (sox)

Talk to it (it converses offline: ask for sales, or say "goodbye", then "yes" when it asks, and it hangs up):

    ./build/src/app/trunkline call sip:{number}@{host_port} --say "I want to talk to sales please" --record /tmp/answer.wav --duration 12

Ask for a person and it hands you over. In another terminal, start the agent's phone (it waits
for the transfer at {agent}, answers, speaks a line and records what it hears):

    ./build/src/app/trunkline call --answer --listen 127.0.0.1:5070 --record /tmp/agent-heard.wav --duration 15

then call the assistant and ask (or press 0):

    ./build/src/app/trunkline call sip:{number}@{host_port} --say "I want to talk to a person" --say "yes" --record /tmp/handoff.wav --duration 30
    curl -s -H "Authorization: Bearer $TRUNKLINE_API_KEY" {base}/api/v1/calls    # "transfer": {{"status": "connected", ...}}

Try the API:
    curl -s {base}/health
    curl -s -H "Authorization: Bearer $TRUNKLINE_API_KEY" {base}/api/v1/numbers
    curl -s -H "Authorization: Bearer $TRUNKLINE_API_KEY" {base}/api/v1/calls
    curl -s -X POST -H "Authorization: Bearer $TRUNKLINE_API_KEY" -H "Content-Type: application/json" \
         -d '{{"name":"Office PBX","host":"pbx.example.com","port":5060,"username":"trunkline","password":"s3cret"}}' \
         {base}/api/v1/sip-trunks

The README's quickstart walks the whole flow (trunk, assistant with transfer_call, number).
)",
        fmt::arg("key", key), fmt::arg("base", base), fmt::arg("number", kDemoNumber),
        fmt::arg("host_port", host_port), fmt::arg("agent", kDemoAgentUri));
}

}  // namespace tl::app
