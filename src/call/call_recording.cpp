// The call's recording (docs/recordings.md): the caller's RTP session hands both directions to
// a RecordingTap (no lock, no IO on the media path) and the server's Recorder writes and seals
// the files on its own thread, reporting recording.* events on the call.

#include <boost/json.hpp>

#include "call/call.hpp"
#include "call/call_manager.hpp"
#include "recording/recording_settings.hpp"

namespace tl::call {

void Call::start_recording() {
    if (recording_.load() || !route_) return;
    boost::system::error_code ec;
    const auto doc = boost::json::parse(route_->assistant.config_json, ec);
    if (ec || !doc.is_object()) return;
    const auto settings = recording::recording_settings(doc.get_object());
    if (!settings.enabled) return;
    if (manager_.config_.recorder == nullptr) {
        log::with_fields(log_fields("recording_unavailable"), spdlog::level::warn,
                         "the assistant asks for a recording, but recording is off on this "
                         "server");
        record_event("recording.failed",
                     R"({"reason":"recording is not available on this server"})");
        return;
    }
    recording_.store(manager_.config_.recorder->start({org_id_, id_, settings.channels}));
}

void Call::stop_recording() {
    if (auto tap = recording_.exchange(nullptr)) tap->finish();
}

}  // namespace tl::call
