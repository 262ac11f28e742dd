#include "media/wav.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

// RIFF/WAVE: "RIFF" size "WAVE", then chunks (id, little-endian size, data, pad byte if odd).
// We read "fmt " (PCM = 1, or WAVE_FORMAT_EXTENSIBLE 0xFFFE with the PCM sub-format) and "data".

namespace tl::media {
namespace {

constexpr std::size_t kMaxWavBytes = std::size_t{512} * 1024 * 1024;
constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
}

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

Error invalid(std::string message) {
    return make_error(Errc::kInvalidRequest, "invalid WAV: " + std::move(message));
}

}  // namespace

Result<WavAudio> parse_wav(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 12 ||
        std::string_view(reinterpret_cast<const char*>(bytes.data()), 4) != "RIFF" ||
        std::string_view(reinterpret_cast<const char*>(bytes.data() + 8), 4) != "WAVE") {
        return invalid("not a RIFF/WAVE file");
    }
    std::size_t pos = 12;
    bool have_format = false;
    std::uint16_t channels = 0;
    std::uint32_t sample_rate = 0;
    std::span<const std::uint8_t> data;
    bool have_data = false;
    while (pos + 8 <= bytes.size()) {
        const std::string_view id(reinterpret_cast<const char*>(bytes.data() + pos), 4);
        const std::size_t declared = le32(bytes.data() + pos + 4);
        pos += 8;
        // Streaming writers leave the data size at 0 or 0xFFFFFFFF: take what is there.
        const std::size_t size = std::min(declared, bytes.size() - pos);
        if (id == "fmt ") {
            if (size < 16) return invalid("fmt chunk too short");
            const auto* f = bytes.data() + pos;
            std::uint16_t format = le16(f);
            channels = le16(f + 2);
            sample_rate = le32(f + 4);
            const std::uint16_t bits = le16(f + 14);
            if (format == kFormatExtensible && size >= 40)
                format = le16(f + 24);  // sub-format GUID
            if (format != kFormatPcm || bits != 16) {
                return invalid(
                    "only 16-bit PCM is supported (this file has format " + std::to_string(format) +
                    ", " + std::to_string(bits) +
                    " bits per sample); convert it, e.g. `sox in.wav -b 16 -e signed out.wav`");
            }
            if (channels == 0 || channels > 8) return invalid("unsupported channel count");
            if (sample_rate < 1000 || sample_rate > 384000)
                return invalid("unsupported sample rate");
            have_format = true;
        } else if (id == "data") {
            data = bytes.subspan(pos, declared == 0 ? bytes.size() - pos : size);
            have_data = true;
        }
        if (have_format && have_data) break;
        pos += size + (size & 1);
    }
    if (!have_format) return invalid("no fmt chunk");
    if (!have_data) return invalid("no data chunk");

    WavAudio audio;
    audio.sample_rate = static_cast<int>(sample_rate);
    const std::size_t frame_bytes = std::size_t{2} * channels;
    const std::size_t frames = data.size() / frame_bytes;
    audio.samples.resize(frames);
    for (std::size_t i = 0; i < frames; ++i) {
        int sum = 0;  // mix down by averaging the channels
        for (std::size_t c = 0; c < channels; ++c) {
            sum += static_cast<std::int16_t>(le16(data.data() + i * frame_bytes + 2 * c));
        }
        audio.samples[i] = static_cast<std::int16_t>(sum / static_cast<int>(channels));
    }
    return audio;
}

Result<WavAudio> read_wav(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::kNotFound, "cannot open WAV file " + path.string());
    std::vector<std::uint8_t> bytes;
    std::vector<char> buffer(std::size_t{64} * 1024);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
        bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + in.gcount());
        if (bytes.size() > kMaxWavBytes) return invalid(path.string() + " is larger than 512 MiB");
    }
    auto audio = parse_wav(bytes);
    if (!audio) return make_error(audio.error().code, path.string() + ": " + audio.error().message);
    return audio;
}

std::string wav_header(int channels, int sample_rate, std::uint64_t data_bytes) {
    const auto size = static_cast<std::uint32_t>(std::min<std::uint64_t>(data_bytes,
                                                                         0xFFFFFFFFull - 36));
    const auto block = static_cast<std::uint16_t>(2 * channels);
    std::string out;
    out.reserve(44);
    out += "RIFF";
    put32(out, 36 + size);
    out += "WAVEfmt ";
    put32(out, 16);
    put16(out, kFormatPcm);
    put16(out, static_cast<std::uint16_t>(channels));
    put32(out, static_cast<std::uint32_t>(sample_rate));
    put32(out, static_cast<std::uint32_t>(sample_rate) * block);  // byte rate
    put16(out, block);                                            // block align
    put16(out, 16);                                               // bits per sample
    out += "data";
    put32(out, size);
    return out;
}

Status write_wav(const std::filesystem::path& path,
                 int sample_rate,
                 std::span<const std::int16_t> samples) {
    if (sample_rate <= 0) return make_error(Errc::kInvalidRequest, "invalid WAV sample rate");
    const std::uint64_t data_bytes = 2ull * samples.size();
    if (data_bytes > 0xFFFFFFFFull - 36) {
        return make_error(Errc::kInvalidRequest, "audio too long for a WAV file");
    }
    std::string out;
    out.reserve(44 + data_bytes);
    out += "RIFF";
    put32(out, static_cast<std::uint32_t>(36 + data_bytes));
    out += "WAVEfmt ";
    put32(out, 16);
    put16(out, kFormatPcm);
    put16(out, 1);  // mono
    put32(out, static_cast<std::uint32_t>(sample_rate));
    put32(out, static_cast<std::uint32_t>(sample_rate) * 2);  // byte rate
    put16(out, 2);                                            // block align
    put16(out, 16);                                           // bits per sample
    out += "data";
    put32(out, static_cast<std::uint32_t>(data_bytes));
    for (auto s : samples) put16(out, static_cast<std::uint16_t>(s));

    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file) return make_error(Errc::kInternal, "cannot create WAV file " + path.string());
    file.write(out.data(), static_cast<std::streamsize>(out.size()));
    file.close();
    if (!file) return make_error(Errc::kInternal, "cannot write WAV file " + path.string());
    return {};
}

}  // namespace tl::media
