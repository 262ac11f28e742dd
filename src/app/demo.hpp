#pragma once
// `serve --demo`: an organization with a key, and a phone line that answers, so a newcomer can
// call the assistant with the test phone a minute after cloning.

#include "common/error.hpp"
#include "store/store.hpp"

#include <string>

namespace tl::app {

inline constexpr const char* kDemoNumber = "+31850000000";
// Where the demo assistant transfers a caller who asks for a person: the test phone started with
// `trunkline call --answer` (its default --listen).
inline constexpr const char* kDemoAgentUri = "sip:agent@127.0.0.1:5070";

struct DemoSetup {
    std::string api_key;  // fresh on every start; shown once
};

// Creates what is missing: organization "demo", an inbound trunk accepting 127.0.0.1 by address,
// the assistant "Demo Assistant" (a greeting, scripted rules, a transfer to kDemoAgentUri) and
// kDemoNumber assigned to it; then a new key. Idempotent: on an existing data dir it keeps the
// demo, gives the line a demo assistant again if it has none, and upgrades a demo assistant an
// earlier version stored unchanged (one changed through the API is kept).
Result<DemoSetup> ensure_demo(store::Store& store);

// The quickstart text printed to stdout.
std::string demo_text(const std::string& key, const std::string& api_base, const std::string& sip);

}  // namespace tl::app
