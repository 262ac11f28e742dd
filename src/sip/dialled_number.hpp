#pragma once
// The dialled number of an inbound call, normalised to E.164, from what carriers and PBXs put in
// the Request-URI or To user part: "+31850835037", "0031850835037", "31850835037" (many carriers
// drop the '+'), "tel:+31-85-083-5037", with ;parameters and visual separators removed.

#include <optional>
#include <string>
#include <string_view>

namespace tl::sip {

// `country_code` (e.g. "31"), when the trunk has one, turns national numbers with a single
// leading trunk prefix 0 ("0850835037") into E.164 ("+31850835037").
std::optional<std::string> normalise_dialled_number(std::string_view user_part,
                                                    std::string_view country_code = {});

}  // namespace tl::sip
