#include "recording/recording_settings.hpp"

namespace tl::recording {

RecordingSettings recording_settings(const boost::json::object& assistant_config) {
    RecordingSettings settings;
    const auto* recording = assistant_config.if_contains("recording");
    if (recording == nullptr || !recording->is_object()) return settings;
    const auto& o = recording->get_object();
    if (const auto* enabled = o.if_contains("enabled"); enabled && enabled->is_bool()) {
        settings.enabled = enabled->get_bool();
    }
    if (const auto* channels = o.if_contains("channels"); channels && channels->is_string()) {
        settings.channels = channels->get_string() == "mono" ? Channels::kMono : Channels::kStereo;
    }
    return settings;
}

std::string_view to_string(Channels channels) {
    return channels == Channels::kMono ? "mono" : "stereo";
}

int channel_count(Channels channels) { return channels == Channels::kMono ? 1 : 2; }

}  // namespace tl::recording
