#pragma once
// `serve --demo`: an organization with a key, and a phone line that answers, so a newcomer can
// call the assistant with the test phone a minute after cloning.

#include "common/error.hpp"
#include "store/store.hpp"

#include <string>

namespace tl::app {

inline constexpr const char* kDemoNumber = "+31850000000";

struct DemoSetup {
    std::string api_key;  // fresh on every start; shown once
};

// Creates what is missing: organization "demo", an inbound trunk accepting 127.0.0.1 by address,
// the assistant "Demo Assistant" with a greeting, and kDemoNumber assigned to it; then a new key.
Result<DemoSetup> ensure_demo(store::Store& store);

// The quickstart text printed to stdout.
std::string demo_text(const std::string& key, const std::string& api_base, const std::string& sip);

}  // namespace tl::app
