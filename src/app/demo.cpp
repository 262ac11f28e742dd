#include "app/demo.hpp"

#include "api/api_keys.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"

#include <fmt/format.h>

namespace tl::app {

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
    if (!existing) {
        store::Assistant assistant;
        assistant.id = new_uuid();
        assistant.org_id = org->id;
        assistant.name = "Demo Assistant";
        assistant.config_json =
            R"({"first_message":"Welcome to Acme support, how can I help you?",)"
            R"("end_call_message":"Thank you for calling Acme. Goodbye.",)"
            R"("tts_config":{"language":"en"},)"
            // Converses with no network: scripted rules, PocketSphinx listening for their words.
            R"("llm_config":{"provider":"scripted","tools":[{"type":"end_call"}],"rules":[)"
            R"({"when":["sales","support"],"reply":"I can help with that. )"
            R"(Say goodbye when you are done."},)"
            R"({"when":["goodbye"],"tool":{"name":"end_call"}}],)"
            R"("default_reply":"In this demo I understand sales, and goodbye."}})";
        assistant.created_at = assistant.updated_at = now;
        if (auto st = store.create_assistant(assistant); !st) return st.error();
        store::PhoneNumber number;
        number.id = new_uuid();
        number.org_id = org->id;
        number.phone_number = kDemoNumber;
        number.name = "Demo line";
        number.assistant_id = assistant.id;
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

Talk to it (it converses offline: ask for sales, or say "goodbye" and it hangs up):

    espeak-ng -v en-us+klatt4 -w /tmp/say.wav "I want to talk to sales please"
    ./build/src/app/trunkline call sip:{number}@{host_port} --play /tmp/say.wav --record /tmp/answer.wav --duration 12

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
        fmt::arg("host_port", host_port));
}

}  // namespace tl::app
