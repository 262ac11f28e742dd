#pragma once
// Appends integers in a chosen byte order, for the binary renderings (pcap, HEP v3). Internal to
// the capture library. Not thread-safe: one writer per rendering.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace tl::sip::detail {

class ByteWriter {
public:
    ByteWriter() = default;
    explicit ByteWriter(std::size_t capacity) { bytes_.reserve(capacity); }

    void u8(std::uint8_t v) { bytes_.push_back(v); }
    // Network byte order (big-endian), as every IP, UDP, TCP and HEP field is.
    void be16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v >> 8));
        u8(static_cast<std::uint8_t>(v));
    }
    void be32(std::uint32_t v) {
        be16(static_cast<std::uint16_t>(v >> 16));
        be16(static_cast<std::uint16_t>(v));
    }
    // Little-endian, for the pcap file and record headers (a reader tells the order by the
    // magic number, so the file's bytes are the same on every host).
    void le16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v));
        u8(static_cast<std::uint8_t>(v >> 8));
    }
    void le32(std::uint32_t v) {
        le16(static_cast<std::uint16_t>(v));
        le16(static_cast<std::uint16_t>(v >> 16));
    }
    void bytes(std::span<const std::uint8_t> v) { bytes_.insert(bytes_.end(), v.begin(), v.end()); }
    void text(std::string_view v) { bytes_.insert(bytes_.end(), v.begin(), v.end()); }

    // Overwrites a big-endian field written earlier (lengths and checksums known only later).
    void patch_be16(std::size_t at, std::uint16_t v) {
        bytes_[at] = static_cast<std::uint8_t>(v >> 8);
        bytes_[at + 1] = static_cast<std::uint8_t>(v);
    }

    std::size_t size() const { return bytes_.size(); }
    const std::vector<std::uint8_t>& bytes() const { return bytes_; }
    std::vector<std::uint8_t> take() && { return std::move(bytes_); }

private:
    std::vector<std::uint8_t> bytes_;
};

}  // namespace tl::sip::detail
