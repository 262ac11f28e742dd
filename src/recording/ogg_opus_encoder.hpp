#pragma once
// 8 kHz 16-bit PCM (mono or interleaved stereo) to Opus in an Ogg container (RFC 7845), one
// 20 ms frame at a time, for recordings a browser or phone plays at a tenth of the WAV's size.
// Built only when libopus and libogg are present (TL_HAVE_OPUS).
//
// Thread-safety: one thread at a time.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/error.hpp"

namespace tl::recording {

class OggOpusEncoder {
public:
    // `channels` 1 or 2; `serial`: the Ogg stream serial number.
    static Result<std::unique_ptr<OggOpusEncoder>> create(int channels, std::uint32_t serial);
    ~OggOpusEncoder();
    OggOpusEncoder(const OggOpusEncoder&) = delete;
    OggOpusEncoder& operator=(const OggOpusEncoder&) = delete;

    // The identification and comment header pages (RFC 7845 §5): the start of the file.
    std::string headers();
    // One 20 ms frame (160 samples per channel, interleaved): the Ogg pages completed by it
    // (often none: a page holds about a second of audio).
    Result<std::string> encode(std::span<const std::int16_t> frame);
    // The last page, marked end of stream.
    Result<std::string> finish();

private:
    struct Impl;
    explicit OggOpusEncoder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tl::recording
