#include "sip/capture/hep.hpp"

#include <span>

#include "sip/capture/byte_writer.hpp"
#include "sip/capture/packet_fields.hpp"

namespace tl::sip {
namespace {

using detail::ByteWriter;

constexpr std::size_t kLengthOffset = 4;     // the total length follows "HEP3"
constexpr std::size_t kChunkHeaderSize = 6;  // vendor + type + length
constexpr std::size_t kMaxPacket = 65535;
constexpr std::uint8_t kAfInet = 2;
constexpr std::uint8_t kAfInet6 = 10;
constexpr std::uint8_t kProtocolTcp = 6;
constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::uint8_t kProtocolTypeSip = 1;

void chunk_header(ByteWriter& out, HepChunk type, std::size_t payload_size) {
    out.be16(0);  // generic vendor
    out.be16(static_cast<std::uint16_t>(type));
    out.be16(static_cast<std::uint16_t>(kChunkHeaderSize + payload_size));
}

void chunk_u8(ByteWriter& out, HepChunk type, std::uint8_t v) {
    chunk_header(out, type, 1);
    out.u8(v);
}

void chunk_u16(ByteWriter& out, HepChunk type, std::uint16_t v) {
    chunk_header(out, type, 2);
    out.be16(v);
}

void chunk_u32(ByteWriter& out, HepChunk type, std::uint32_t v) {
    chunk_header(out, type, 4);
    out.be32(v);
}

void chunk_bytes(ByteWriter& out, HepChunk type, std::span<const std::uint8_t> v) {
    chunk_header(out, type, v.size());
    out.bytes(v);
}

void chunk_text(ByteWriter& out, HepChunk type, std::string_view v) {
    chunk_header(out, type, v.size());
    out.text(v);
}

}  // namespace

std::vector<std::uint8_t> encode_hep3(const CapturedMessage& message,
                                      std::uint32_t capture_id,
                                      std::string_view correlation_id) {
    const detail::PacketEndpoints e = detail::packet_endpoints(message);
    const detail::UnixTime time = detail::unix_time(message.timestamp);
    const bool v4 = e.family == detail::IpFamily::kV4;

    ByteWriter out;
    out.text("HEP3");
    out.be16(0);  // the total length, once known
    chunk_u8(out, HepChunk::kIpFamily, v4 ? kAfInet : kAfInet6);
    chunk_u8(out, HepChunk::kIpProtocol,
             detail::is_stream_transport(message.transport) ? kProtocolTcp : kProtocolUdp);
    chunk_bytes(out, v4 ? HepChunk::kIpv4Source : HepChunk::kIpv6Source, e.source.view());
    chunk_bytes(out, v4 ? HepChunk::kIpv4Destination : HepChunk::kIpv6Destination,
                e.destination.view());
    chunk_u16(out, HepChunk::kSourcePort, e.source_port);
    chunk_u16(out, HepChunk::kDestinationPort, e.destination_port);
    chunk_u32(out, HepChunk::kTimestampSeconds, time.seconds);
    chunk_u32(out, HepChunk::kTimestampMicroseconds, time.microseconds);
    chunk_u8(out, HepChunk::kProtocolType, kProtocolTypeSip);
    chunk_u32(out, HepChunk::kCaptureAgentId, capture_id);

    correlation_id = correlation_id.substr(0, kMaxHepCorrelationId);
    const std::size_t correlation_size =
        correlation_id.empty() ? 0 : kChunkHeaderSize + correlation_id.size();
    const std::size_t room = kMaxPacket - out.size() - correlation_size - kChunkHeaderSize;
    chunk_text(out, HepChunk::kPayload, std::string_view(message.raw).substr(0, room));
    if (!correlation_id.empty()) chunk_text(out, HepChunk::kCorrelationId, correlation_id);

    out.patch_be16(kLengthOffset, static_cast<std::uint16_t>(out.size()));
    return std::move(out).take();
}

}  // namespace tl::sip
