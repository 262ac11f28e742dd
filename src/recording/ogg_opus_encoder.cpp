#include "recording/ogg_opus_encoder.hpp"

#include <ogg/ogg.h>
#include <opus/opus.h>

#include <array>
#include <optional>
#include <vector>

// RFC 7845: an Ogg stream whose first page holds only the OpusHead packet, the second only
// OpusTags, then audio packets; granule positions count 48 kHz samples, whatever the input rate.

namespace tl::recording {
namespace {

constexpr int kInputRate = 8000;
constexpr int kFrameSamples = 160;             // 20 ms at 8 kHz, per channel
constexpr ogg_int64_t kGranulePerFrame = 960;  // 20 ms at 48 kHz
constexpr std::size_t kMaxPacket = 1500;

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
}

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void append_page(std::string& out, const ogg_page& page) {
    out.append(reinterpret_cast<const char*>(page.header),
               static_cast<std::size_t>(page.header_len));
    out.append(reinterpret_cast<const char*>(page.body), static_cast<std::size_t>(page.body_len));
}

}  // namespace

struct OggOpusEncoder::Impl {
    OpusEncoder* encoder = nullptr;
    ogg_stream_state stream{};
    bool stream_ready = false;
    int channels = 1;
    int pre_skip = 0;  // 48 kHz samples
    ogg_int64_t packet_number = 0;
    ogg_int64_t granule = 0;
    // The last packet is held back so the final one can carry the end-of-stream flag.
    std::optional<std::vector<unsigned char>> held;

    ~Impl() {
        if (encoder != nullptr) opus_encoder_destroy(encoder);
        if (stream_ready) ogg_stream_clear(&stream);
    }

    std::string pages(bool flush) {
        std::string out;
        ogg_page page;
        while ((flush ? ogg_stream_flush(&stream, &page) : ogg_stream_pageout(&stream, &page)) !=
               0) {
            append_page(out, page);
        }
        return out;
    }

    void submit(std::vector<unsigned char>& data, bool bos, bool eos, ogg_int64_t granulepos) {
        ogg_packet packet{};
        packet.packet = data.data();
        packet.bytes = static_cast<long>(data.size());
        packet.b_o_s = bos ? 1 : 0;
        packet.e_o_s = eos ? 1 : 0;
        packet.granulepos = granulepos;
        packet.packetno = packet_number++;
        ogg_stream_packetin(&stream, &packet);
    }
};

OggOpusEncoder::OggOpusEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OggOpusEncoder::~OggOpusEncoder() = default;

Result<std::unique_ptr<OggOpusEncoder>> OggOpusEncoder::create(int channels, std::uint32_t serial) {
    if (channels != 1 && channels != 2) {
        return make_error(Errc::kInvalidRequest, "Opus recordings have 1 or 2 channels");
    }
    auto impl = std::make_unique<Impl>();
    impl->channels = channels;
    int error = OPUS_OK;
    impl->encoder = opus_encoder_create(kInputRate, channels, OPUS_APPLICATION_VOIP, &error);
    if (error != OPUS_OK || impl->encoder == nullptr) {
        impl->encoder = nullptr;
        return make_error(Errc::kInternal,
                          std::string("cannot create the Opus encoder: ") + opus_strerror(error));
    }
    // Narrowband speech: 16 kbit/s a channel keeps it clear at a tenth of G.711's size.
    opus_encoder_ctl(impl->encoder, OPUS_SET_BITRATE(16000 * channels));
    opus_int32 lookahead = 0;
    opus_encoder_ctl(impl->encoder, OPUS_GET_LOOKAHEAD(&lookahead));
    impl->pre_skip = static_cast<int>(lookahead) * (48000 / kInputRate);
    if (ogg_stream_init(&impl->stream, static_cast<int>(serial)) != 0) {
        return make_error(Errc::kInternal, "cannot start the Ogg stream");
    }
    impl->stream_ready = true;
    return std::unique_ptr<OggOpusEncoder>(new OggOpusEncoder(std::move(impl)));
}

std::string OggOpusEncoder::headers() {
    // OpusHead (RFC 7845 §5.1): version 1, channels, pre-skip, the input rate (informational),
    // output gain 0, mapping family 0 (mono or stereo, no table).
    std::string head = "OpusHead";
    head.push_back(1);
    head.push_back(static_cast<char>(impl_->channels));
    put16(head, static_cast<std::uint16_t>(impl_->pre_skip));
    put32(head, kInputRate);
    put16(head, 0);
    head.push_back(0);
    std::vector<unsigned char> head_packet(head.begin(), head.end());
    impl_->submit(head_packet, true, false, 0);
    std::string out = impl_->pages(true);
    // OpusTags (§5.2): the vendor string and no comments.
    const std::string vendor = opus_get_version_string();
    std::string tags = "OpusTags";
    put32(tags, static_cast<std::uint32_t>(vendor.size()));
    tags += vendor;
    put32(tags, 0);
    std::vector<unsigned char> tags_packet(tags.begin(), tags.end());
    impl_->submit(tags_packet, false, false, 0);
    out += impl_->pages(true);
    return out;
}

Result<std::string> OggOpusEncoder::encode(std::span<const std::int16_t> frame) {
    if (frame.size() != static_cast<std::size_t>(kFrameSamples * impl_->channels)) {
        return make_error(Errc::kInternal, "an Opus frame is 20 ms");
    }
    std::vector<unsigned char> packet(kMaxPacket);
    const opus_int32 n = opus_encode(impl_->encoder, frame.data(), kFrameSamples, packet.data(),
                                     static_cast<opus_int32>(packet.size()));
    if (n < 0) {
        return make_error(Errc::kInternal,
                          std::string("Opus encoding failed: ") + opus_strerror(n));
    }
    packet.resize(static_cast<std::size_t>(n));
    std::string out;
    if (impl_->held) {
        impl_->submit(*impl_->held, false, false, impl_->granule);
        out = impl_->pages(false);
    }
    impl_->granule += kGranulePerFrame;
    impl_->held = std::move(packet);
    return out;
}

Result<std::string> OggOpusEncoder::finish() {
    if (!impl_->held) {
        // No audio at all: one frame of silence, so the stream still has an end.
        const std::array<std::int16_t, 2 * kFrameSamples> silence{};
        auto encoded = encode(
            std::span(silence.data(), static_cast<std::size_t>(kFrameSamples * impl_->channels)));
        if (!encoded) return encoded.error();
    }
    impl_->submit(*impl_->held, false, true, impl_->granule);
    impl_->held.reset();
    return impl_->pages(true);
}

}  // namespace tl::recording
