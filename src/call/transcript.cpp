#include "call/transcript.hpp"

#include <boost/json/object.hpp>

#include <algorithm>

namespace tl::call {

namespace json = boost::json;

void Transcript::add(std::string_view role, std::string_view content, SteadyTime started) {
    using std::chrono::milliseconds;
    const auto since = std::max(milliseconds(0),
                                std::chrono::duration_cast<milliseconds>(started - start_));
    const double seconds = static_cast<double>(since.count()) / 1000.0;
    json::object entry{{"role", role},
                       {"content", content},
                       {"time", format_iso8601(wall_start_ + since)},
                       {"seconds_from_start", seconds}};
    const auto later = std::find_if(messages_.begin(), messages_.end(), [&](const json::value& m) {
        return m.as_object().at("seconds_from_start").to_number<double>() > seconds;
    });
    messages_.insert(later, std::move(entry));
}

}  // namespace tl::call
