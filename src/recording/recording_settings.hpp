#pragma once
// Whether a call is recorded, and how: the assistant's `recording` member ({enabled, channels}),
// which an outbound call's request may override for that call.

#include <boost/json/object.hpp>
#include <string_view>

namespace tl::recording {

// kStereo: the caller on the left channel, the assistant (or the agent a transfer bridged
// to) on the right. kMono: the two mixed.
enum class Channels { kStereo, kMono };

struct RecordingSettings {
    bool enabled = false;
    Channels channels = Channels::kStereo;
};

// From an assistant document whose `recording` member the API validated; absent, null or
// malformed: not recorded.
RecordingSettings recording_settings(const boost::json::object& assistant_config);

std::string_view to_string(Channels channels);
int channel_count(Channels channels);

}  // namespace tl::recording
