#pragma once
// The dialled number of an inbound call, normalised to E.164, from what carriers and PBXs put in
// the Request-URI or To user part: "+31850835037", "0031850835037", "31850835037" (many carriers
// drop the '+'), "tel:+31-85-083-5037", with ;parameters and visual separators removed.

#include <optional>
#include <string>
#include <string_view>

namespace tl::sip {

std::optional<std::string> normalise_dialled_number(std::string_view user_part);

}  // namespace tl::sip
