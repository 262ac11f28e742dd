#include "recording/recorder.hpp"

#include <gtest/gtest.h>

#include "common/temp_dir.hpp"
#include "media/wav.hpp"

#ifdef TL_HAVE_OPUS
#include <ogg/ogg.h>
#include <opus/opus.h>
#endif

#include <cmath>
#include <fstream>
#include <iterator>
#include <mutex>
#include <numbers>
#include <thread>

namespace tl::recording {
namespace {

store::SecretBox test_secrets() {
    auto key = store::SecretBox::parse_key(std::string(64, 'a'));
    auto box = store::SecretBox::from_keys({*key});
    return std::move(*box);
}

std::int16_t tone(double hz, std::size_t n, double amplitude = 8000) {
    return static_cast<std::int16_t>(
        amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(n) / kSampleRate));
}

// The share of a signal's energy at `hz` (Goertzel).
double tone_ratio(const std::vector<std::int16_t>& x, double hz) {
    const double w = 2 * std::numbers::pi * hz / kSampleRate;
    const double coeff = 2 * std::cos(w);
    double s1 = 0, s2 = 0, total = 0;
    for (const auto v : x) {
        const double s0 = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
        total += static_cast<double>(v) * v;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return total > 0 ? power / (total * static_cast<double>(x.size()) / 2) : 0;
}

struct Events {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> seen;
    Recorder::EventSink sink() {
        return [this](const RecordingJob&, const std::string& type, const std::string& data) {
            std::lock_guard lock(mutex);
            seen.emplace_back(type, data);
        };
    }
    std::vector<std::string> types() {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const auto& e : seen) out.push_back(e.first);
        return out;
    }
};

constexpr std::size_t kFrames = 100;  // 2 s

// A call's media path: the caller sends a 440 Hz tone, we send 1000 Hz.
void feed(RecordingTap& tap) {
    std::vector<std::int16_t> caller(kFrameSamples), sent(kFrameSamples);
    for (std::size_t f = 0; f < kFrames; ++f) {
        for (std::size_t i = 0; i < kFrameSamples; ++i) {
            caller[i] = tone(440, f * kFrameSamples + i);
            sent[i] = tone(1000, f * kFrameSamples + i);
        }
        tap.caller_audio(caller);
        tap.sent_audio(sent);
    }
    tap.finish();
}

struct Recorded {
    std::string wav;
    std::vector<std::string> events;
};

Recorded record(const RecordingFiles& files, Channels channels) {
    Events events;
    {
        Recorder recorder(files, events.sink(), {.poll_interval = std::chrono::milliseconds(10)});
        auto tap = recorder.start({"org-a", "call-1", channels});
        feed(*tap);
    }  // the destructor finishes every recording
    auto wav = files.read("org-a", "call-1", Format::kWav);
    EXPECT_TRUE(wav) << wav.error().message;
    return {wav ? *wav : std::string(), events.types()};
}

TEST(Recorder, StereoHasTheCallerLeftAndTheAssistantRight) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    const auto recorded = record(files, Channels::kStereo);
    EXPECT_EQ(recorded.events,
              (std::vector<std::string>{"recording.started", "recording.stopped"}));
    ASSERT_EQ(recorded.wav.size(), 44 + kFrames * kFrameSamples * 4);
    const auto* b = reinterpret_cast<const std::uint8_t*>(recorded.wav.data());
    EXPECT_EQ(b[22], 2);                  // channels
    EXPECT_EQ(b[24] | b[25] << 8, 8000);  // sample rate
    EXPECT_EQ(recorded.wav.substr(36, 4), "data");
    const std::uint32_t data = b[40] | b[41] << 8 | b[42] << 16 | std::uint32_t{b[43]} << 24;
    EXPECT_EQ(data, kFrames * kFrameSamples * 4);
    std::vector<std::int16_t> left, right;
    for (std::size_t i = 44; i + 3 < recorded.wav.size(); i += 4) {
        left.push_back(static_cast<std::int16_t>(b[i] | b[i + 1] << 8));
        right.push_back(static_cast<std::int16_t>(b[i + 2] | b[i + 3] << 8));
    }
    EXPECT_GT(tone_ratio(left, 440), 0.9);
    EXPECT_LT(tone_ratio(left, 1000), 0.05);
    EXPECT_GT(tone_ratio(right, 1000), 0.9);
    EXPECT_LT(tone_ratio(right, 440), 0.05);
    // On disk: sealed, no RIFF header, none of the samples.
    std::ifstream in(files.path("org-a", "call-1", Format::kWav), std::ios::binary);
    const std::string disk{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(disk.find("RIFF"), std::string::npos);
    EXPECT_EQ(disk.find(recorded.wav.substr(1000, 64)), std::string::npos);
    EXPECT_FALSE(files.in_progress("org-a", "call-1"));
}

TEST(Recorder, MonoIsTheMixOfBothSides) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    const auto recorded = record(files, Channels::kMono);
    ASSERT_EQ(recorded.wav.size(), 44 + kFrames * kFrameSamples * 2);
    const auto* b = reinterpret_cast<const std::uint8_t*>(recorded.wav.data());
    EXPECT_EQ(b[22], 1);
    std::vector<std::int16_t> mono;
    for (std::size_t i = 44; i + 1 < recorded.wav.size(); i += 2) {
        mono.push_back(static_cast<std::int16_t>(b[i] | b[i + 1] << 8));
    }
    // Both tones at equal level: each about half the energy, sample for sample their sum.
    EXPECT_NEAR(tone_ratio(mono, 440), 0.5, 0.1);
    EXPECT_NEAR(tone_ratio(mono, 1000), 0.5, 0.1);
    EXPECT_EQ(mono[123], tone(440, 123) + tone(1000, 123));
}

TEST(Recorder, AnotherOrganizationsKeyDoesNotOpenIt) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    (void)record(files, Channels::kStereo);
    // The same bytes under another organization's name: its key differs, and so does the binding.
    std::filesystem::create_directories(files.path("org-b", "call-1", Format::kWav).parent_path());
    std::filesystem::copy_file(files.path("org-a", "call-1", Format::kWav),
                               files.path("org-b", "call-1", Format::kWav));
    EXPECT_FALSE(files.read("org-b", "call-1", Format::kWav));
    const auto a = files.data_key("org-a");
    const auto b = files.data_key("org-b");
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->bytes, b->bytes);
}

TEST(Recorder, AFailureToCreateTheFileIsReportedAndLeavesNothing) {
    TempDir dir;
    const auto secrets = test_secrets();
    // The root is a file: no directory can be made under it.
    std::ofstream(dir.path() / "blocked") << "x";
    RecordingFiles files(dir.path() / "blocked", secrets);
    Events events;
    {
        Recorder recorder(files, events.sink(), {.poll_interval = std::chrono::milliseconds(10)});
        auto tap = recorder.start({"org-a", "call-1", Channels::kStereo});
        feed(*tap);
    }
    ASSERT_EQ(events.types(), std::vector<std::string>{"recording.failed"});
    EXPECT_NE(events.seen.front().second.find("reason"), std::string::npos);
    EXPECT_FALSE(files.exists("org-a", "call-1", Format::kWav));
}

#ifdef TL_HAVE_OPUS
// Decodes an Ogg Opus file with libogg and libopus: (channels, 48 kHz interleaved samples).
std::pair<int, std::vector<float>> decode_ogg_opus(const std::string& bytes) {
    ogg_sync_state sync;
    ogg_sync_init(&sync);
    char* buffer = ogg_sync_buffer(&sync, static_cast<long>(bytes.size()));
    std::copy(bytes.begin(), bytes.end(), buffer);
    ogg_sync_wrote(&sync, static_cast<long>(bytes.size()));
    ogg_stream_state stream;
    bool stream_ready = false;
    OpusDecoder* decoder = nullptr;
    int channels = 0;
    int packets = 0;
    bool eos = false;
    std::vector<float> pcm;
    ogg_page page;
    while (ogg_sync_pageout(&sync, &page) == 1) {
        if (!stream_ready) {
            ogg_stream_init(&stream, ogg_page_serialno(&page));
            stream_ready = true;
        }
        ogg_stream_pagein(&stream, &page);
        ogg_packet packet;
        while (ogg_stream_packetout(&stream, &packet) == 1) {
            if (packets++ == 0) {
                EXPECT_EQ(std::string(reinterpret_cast<char*>(packet.packet), 8), "OpusHead");
                channels = packet.packet[9];
                int error = 0;
                decoder = opus_decoder_create(48000, channels, &error);
                continue;
            }
            if (packets == 2) {
                EXPECT_EQ(std::string(reinterpret_cast<char*>(packet.packet), 8), "OpusTags");
                continue;
            }
            std::vector<float> out(5760 * static_cast<std::size_t>(channels));
            const int n = opus_decode_float(decoder, packet.packet, static_cast<int>(packet.bytes),
                                            out.data(), 5760, 0);
            EXPECT_GT(n, 0);
            out.resize(static_cast<std::size_t>(std::max(n, 0) * channels));
            pcm.insert(pcm.end(), out.begin(), out.end());
            eos = eos || packet.e_o_s;
        }
    }
    EXPECT_TRUE(eos);
    if (decoder) opus_decoder_destroy(decoder);
    if (stream_ready) ogg_stream_clear(&stream);
    ogg_sync_clear(&sync);
    return {channels, pcm};
}

TEST(Recorder, OpusInOggDecodesWithBothChannelsInPlace) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    (void)record(files, Channels::kStereo);
    auto ogg = files.read("org-a", "call-1", Format::kOgg);
    ASSERT_TRUE(ogg) << ogg.error().message;
    EXPECT_EQ(ogg->rfind("OggS", 0), 0u);
    // Far smaller than the WAV (2 s stereo: 64,000 bytes of samples).
    EXPECT_LT(ogg->size(), 12'000u);
    const auto [channels, pcm] = decode_ogg_opus(*ogg);
    ASSERT_EQ(channels, 2);
    EXPECT_NEAR(static_cast<double>(pcm.size()) / 2 / 48000, 2.0, 0.05);
    // Back at 8 kHz (every sixth sample), past the encoder's start-up: tones where they belong.
    std::vector<std::int16_t> left, right;
    for (std::size_t i = 2 * 48000 / 2; i + 1 < pcm.size(); i += 12) {
        left.push_back(static_cast<std::int16_t>(pcm[i] * 32767));
        right.push_back(static_cast<std::int16_t>(pcm[i + 1] * 32767));
    }
    EXPECT_GT(tone_ratio(left, 440), 0.8);
    EXPECT_GT(tone_ratio(right, 1000), 0.8);
    EXPECT_LT(tone_ratio(left, 1000), 0.1);
    EXPECT_LT(tone_ratio(right, 440), 0.1);
}
#endif

}  // namespace
}  // namespace tl::recording
