#pragma once
// Call recordings written off the media path: one writer thread for the whole server takes the
// frames that each call's RecordingTap queued, encodes them (WAV, and Opus in Ogg when built with
// libopus) and seals them to disk as they come (RecordingFiles). The writer never makes media
// wait: a recording it cannot keep up with loses frames, counted, with a warning naming the call.
//
// Each recording reports what happens to it through the event sink, on the writer thread:
//   recording.started  {channels, formats}
//   recording.stopped  {duration_seconds, bytes, frames, dropped_frames, channels, formats}
//   recording.failed   {reason}  (also logged at warn with the call id; the partial files go)
//
// Thread-safety: start() from any thread; the destructor finishes every recording still open.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "recording/recording_files.hpp"
#include "recording/recording_settings.hpp"
#include "recording/recording_tap.hpp"

namespace tl::recording {

struct RecordingJob {
    std::string org_id;
    std::string call_id;
    Channels channels = Channels::kStereo;
};

class Recorder {
public:
    using EventSink = std::function<void(
        const RecordingJob& job, const std::string& type, const std::string& data_json)>;

    struct Options {
        std::chrono::milliseconds poll_interval{100};
        std::size_t queue_frames = RecordingTap::kDefaultCapacity;
        bool opus = true;  // also Opus in Ogg, when this build has it
    };

    Recorder(const RecordingFiles& files, EventSink events, Options options);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // A new recording; the writer creates its files on its next turn. The call feeds the tap
    // from its media path and calls tap->finish() when the call ends.
    std::shared_ptr<RecordingTap> start(RecordingJob job);

    // Whether recordings also come as Opus in Ogg (the build has libopus and it is on).
    bool opus() const { return opus_; }
    static bool opus_built();

private:
    struct Active;
    void run();
    void service(Active& active);
    void open(Active& active);
    void fail(Active& active, const std::string& reason);
    void close(Active& active);

    const RecordingFiles& files_;
    EventSink events_;
    Options options_;
    bool opus_ = false;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::vector<std::unique_ptr<Active>> incoming_;  // under mutex_
    std::vector<std::unique_ptr<Active>> active_;    // writer thread only
    std::thread thread_;
};

}  // namespace tl::recording
