#include "recording/recorder.hpp"

#include "common/log.hpp"
#include "media/wav.hpp"
#include "recording/sealed_file.hpp"
#ifdef TL_HAVE_OPUS
#include "recording/ogg_opus_encoder.hpp"
#endif

#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <system_error>

namespace tl::recording {

namespace json = boost::json;

struct Recorder::Active {
    RecordingJob job;
    std::shared_ptr<RecordingTap> tap;
    std::optional<SealedFileWriter> wav;
    std::optional<SealedFileWriter> ogg;
#ifdef TL_HAVE_OPUS
    std::unique_ptr<OggOpusEncoder> opus;
#endif
    bool opened = false;
    bool failed = false;
    bool done = false;
    std::uint64_t frames = 0;
    std::uint64_t reported_drops = 0;
    std::vector<std::int16_t> samples;  // one frame, interleaved or mixed
    std::string bytes;                  // the same, little-endian
};

namespace {

log::Fields fields_of(const RecordingJob& job, std::string_view reason = {}) {
    log::Fields fields;
    fields.call_id = job.call_id;
    fields.org_id = job.org_id;
    fields.reason = reason;
    return fields;
}

json::array formats_of(bool ogg) {
    json::array formats{"wav"};
    if (ogg) formats.emplace_back("ogg");
    return formats;
}

}  // namespace

bool Recorder::opus_built() {
#ifdef TL_HAVE_OPUS
    return true;
#else
    return false;
#endif
}

Recorder::Recorder(const RecordingFiles& files, EventSink events, Options options)
    : files_(files),
      events_(std::move(events)),
      options_(options),
      opus_(options.opus && opus_built()) {
    thread_ = std::thread([this] { run(); });
}

Recorder::~Recorder() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

std::shared_ptr<RecordingTap> Recorder::start(RecordingJob job) {
    auto active = std::make_unique<Active>();
    active->job = std::move(job);
    active->tap = std::make_shared<RecordingTap>(options_.queue_frames);
    auto tap = active->tap;
    {
        std::lock_guard lock(mutex_);
        incoming_.push_back(std::move(active));
    }
    wake_.notify_all();
    return tap;
}

void Recorder::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        for (auto& a : incoming_) active_.push_back(std::move(a));
        incoming_.clear();
        const bool stopping = stopping_;
        lock.unlock();
        for (auto& a : active_) {
            // Shutting down: what each recording has so far becomes its file.
            if (stopping) a->tap->finish();
            service(*a);
        }
        std::erase_if(active_, [](const auto& a) { return a->done; });
        lock.lock();
        if (stopping_ && active_.empty() && incoming_.empty()) return;
        wake_.wait_for(lock, options_.poll_interval,
                       [this] { return stopping_ || !incoming_.empty(); });
    }
}

void Recorder::service(Active& a) {
    if (!a.opened && !a.failed) open(a);
    const auto drain = [&] {
        while (auto frame = a.tap->next()) {
            if (a.failed) continue;  // a failed recording still empties its queue
            const bool stereo = a.job.channels == Channels::kStereo;
            a.samples.resize(stereo ? 2 * kFrameSamples : kFrameSamples);
            for (std::size_t i = 0; i < kFrameSamples; ++i) {
                if (stereo) {
                    a.samples[2 * i] = frame->caller[i];
                    a.samples[2 * i + 1] = frame->assistant[i];
                } else {
                    const int mixed = int{frame->caller[i]} + int{frame->assistant[i]};
                    a.samples[i] = static_cast<std::int16_t>(std::clamp(mixed, -32768, 32767));
                }
            }
            a.bytes.clear();
            for (const auto s : a.samples) {
                a.bytes.push_back(static_cast<char>(static_cast<std::uint16_t>(s) & 0xFF));
                a.bytes.push_back(static_cast<char>(static_cast<std::uint16_t>(s) >> 8));
            }
            if (auto st = a.wav->write(a.bytes); !st) return fail(a, st.error().message);
#ifdef TL_HAVE_OPUS
            if (a.opus) {
                auto pages = a.opus->encode(a.samples);
                if (!pages) return fail(a, pages.error().message);
                if (auto st = a.ogg->write(*pages); !st) return fail(a, st.error().message);
            }
#endif
            ++a.frames;
        }
    };
    drain();
    if (const auto dropped = a.tap->dropped(); dropped > a.reported_drops) {
        log::rate_limited(
            "recording.dropped", fields_of(a.job, "recording_behind"), spdlog::level::warn,
            "the recording writer fell behind: {} frames of 20 ms dropped so far", dropped);
        a.reported_drops = dropped;
    }
    if (a.tap->finished()) {
        drain();  // what the media path queued before it stopped
        close(a);
    }
}

void Recorder::open(Active& a) {
    const auto& job = a.job;
    const auto wav_path = files_.partial_path(job.org_id, job.call_id, Format::kWav);
    std::error_code ec;
    std::filesystem::create_directories(wav_path.parent_path(), ec);
    if (ec)
        return fail(a, "cannot create " + wav_path.parent_path().string() + ": " + ec.message());
    std::filesystem::permissions(wav_path.parent_path(), std::filesystem::perms::owner_all, ec);
    auto key = files_.data_key(job.org_id);
    if (!key) return fail(a, key.error().message);
    auto wav =
        SealedFileWriter::create(wav_path, key->master_key_id, key->bytes,
                                 RecordingFiles::binding(job.org_id, job.call_id, Format::kWav));
    if (!wav) {
        sodium_memzero(key->bytes.data(), key->bytes.size());
        return fail(a, wav.error().message);
    }
    a.wav = std::move(*wav);
    const int channels = channel_count(job.channels);
    // The sizes are filled in when the file is served (RecordingFiles::read).
    if (auto st = a.wav->write(media::wav_header(channels, kSampleRate, 0)); !st) {
        sodium_memzero(key->bytes.data(), key->bytes.size());
        return fail(a, st.error().message);
    }
#ifdef TL_HAVE_OPUS
    if (opus_) {
        auto encoder = OggOpusEncoder::create(channels, randombytes_random());
        auto ogg = SealedFileWriter::create(
            files_.partial_path(job.org_id, job.call_id, Format::kOgg), key->master_key_id,
            key->bytes, RecordingFiles::binding(job.org_id, job.call_id, Format::kOgg));
        if (!encoder || !ogg) {
            sodium_memzero(key->bytes.data(), key->bytes.size());
            return fail(a, !encoder ? encoder.error().message : ogg.error().message);
        }
        a.opus = std::move(*encoder);
        a.ogg = std::move(*ogg);
        if (auto st = a.ogg->write(a.opus->headers()); !st) {
            sodium_memzero(key->bytes.data(), key->bytes.size());
            return fail(a, st.error().message);
        }
    }
#endif
    sodium_memzero(key->bytes.data(), key->bytes.size());
    a.opened = true;
    events_(job, "recording.started",
            json::serialize(json::object{{"channels", to_string(job.channels)},
                                         {"formats", formats_of(a.ogg.has_value())}}));
}

void Recorder::fail(Active& a, const std::string& reason) {
    if (a.failed) return;
    a.failed = true;
    a.wav.reset();  // closes the files
    a.ogg.reset();
    // Nothing half-written stays: the partial files go.
    (void)files_.remove(a.job.org_id, a.job.call_id);
    log::with_fields(fields_of(a.job, "recording_failed"), spdlog::level::warn,
                     "recording failed: {}", reason);
    events_(a.job, "recording.failed", json::serialize(json::object{{"reason", reason}}));
}

void Recorder::close(Active& a) {
    a.done = true;
    if (a.failed) return;
    const auto& job = a.job;
#ifdef TL_HAVE_OPUS
    if (a.opus) {
        auto pages = a.opus->finish();
        if (!pages) return fail(a, pages.error().message);
        if (auto st = a.ogg->write(*pages); !st) return fail(a, st.error().message);
    }
#endif
    if (auto st = a.wav->finish(); !st) return fail(a, st.error().message);
    if (a.ogg) {
        if (auto st = a.ogg->finish(); !st) return fail(a, st.error().message);
    }
    for (const auto format : {Format::kWav, Format::kOgg}) {
        if (format == Format::kOgg && !a.ogg) continue;
        std::error_code ec;
        std::filesystem::rename(files_.partial_path(job.org_id, job.call_id, format),
                                files_.path(job.org_id, job.call_id, format), ec);
        if (ec) return fail(a, "cannot complete the recording: " + ec.message());
    }
    const auto dropped = a.tap->dropped();
    if (dropped > 0) {
        log::with_fields(fields_of(job, "recording_behind"), spdlog::level::warn,
                         "recording complete with {} of {} frames dropped (the writer fell "
                         "behind)",
                         dropped, dropped + a.frames);
    }
    const double seconds = static_cast<double>(a.frames) * kFrameSamples / kSampleRate;
    events_(job, "recording.stopped",
            json::serialize(json::object{{"duration_seconds", seconds},
                                         {"bytes", a.wav->plaintext_bytes()},
                                         {"frames", a.frames},
                                         {"dropped_frames", dropped},
                                         {"channels", to_string(job.channels)},
                                         {"formats", formats_of(a.ogg.has_value())}}));
}

}  // namespace tl::recording
