// Fuzzes the SDP of inbound INVITEs (media/sdp.hpp): the input is the offer. When it parses, the
// target checks the parser's bounds, negotiates an answer, renders it with a fixed LocalMedia and
// parses the rendered answer again: our own answer must always parse, keep the offer's m-lines in
// order with only the chosen audio stream active, carry the negotiated payload type and the
// negotiated direction, and be negotiable in turn by the offerer (RFC 3264 §6, §8.4).

#include "fuzz_check.hpp"
#include "media/sdp.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using tl::media::Codec;
using tl::media::Direction;
using tl::media::MediaDescription;
using tl::media::SessionDescription;

const tl::media::LocalMedia kLocal{"203.0.113.10", 40000, 4242, 7};

Direction mirror(Direction d) {
    switch (d) {
        case Direction::kSendOnly:
            return Direction::kRecvOnly;
        case Direction::kRecvOnly:
            return Direction::kSendOnly;
        default:
            return d;
    }
}

bool sends(Direction d) { return d == Direction::kSendRecv || d == Direction::kSendOnly; }
bool receives(Direction d) { return d == Direction::kSendRecv || d == Direction::kRecvOnly; }

// What every successful parse promises, whatever the input (the limits of sdp.cpp).
void check_parsed(const SessionDescription& sdp, std::string_view text) {
    TL_FUZZ_CHECK(sdp.media.size() <= 16, text);
    for (const auto& m : sdp.media) {
        TL_FUZZ_CHECK(!m.media.empty() && !m.protocol.empty(), text);
        TL_FUZZ_CHECK(m.port >= 0 && m.port <= 65535, text);
        TL_FUZZ_CHECK(m.formats.size() <= 64, text);
        TL_FUZZ_CHECK(m.rtpmaps.size() <= m.formats.size(), text);
        for (const int pt : m.formats) TL_FUZZ_CHECK(pt >= 0 && pt <= 127, text);
        for (const auto& map : m.rtpmaps) {
            TL_FUZZ_CHECK(map.payload_type >= 0 && map.payload_type <= 127, text);
            TL_FUZZ_CHECK(std::find(m.formats.begin(), m.formats.end(), map.payload_type) !=
                              m.formats.end(),
                          text);
            TL_FUZZ_CHECK(map.clock_rate > 0 && map.channels > 0, text);
        }
        if (m.ptime) TL_FUZZ_CHECK(*m.ptime > 0 && *m.ptime <= 1000, text);
        if (m.rtcp_port) TL_FUZZ_CHECK(*m.rtcp_port >= 1 && *m.rtcp_port <= 65535, text);
        if (m.connection_address) TL_FUZZ_CHECK(!m.connection_address->empty(), text);
    }
    if (sdp.connection_address) TL_FUZZ_CHECK(!sdp.connection_address->empty(), text);
}

void check_answer(const SessionDescription& offer,
                  const tl::media::NegotiatedAudio& audio,
                  std::string_view text) {
    TL_FUZZ_CHECK(audio.payload_type >= 0 && audio.payload_type <= 127, text);
    if (audio.telephone_event_pt) {
        TL_FUZZ_CHECK(*audio.telephone_event_pt >= 0 && *audio.telephone_event_pt <= 127, text);
        TL_FUZZ_CHECK(*audio.telephone_event_pt != audio.payload_type, text);
    }
    // negotiate_answer never picks a rejected (port 0) stream.
    TL_FUZZ_CHECK(audio.remote_port >= 1 && audio.remote_port <= 65535, text);
    // port + 1 may be 65536 for an offer on port 65535; RtpSession checks <= 65535 before use.
    TL_FUZZ_CHECK(audio.remote_rtcp_port >= 1 && audio.remote_rtcp_port <= 65536, text);
    TL_FUZZ_CHECK(!audio.remote_address.empty(), text);
    TL_FUZZ_CHECK(audio.ptime_ms == 20, text);

    const std::string rendered = tl::media::render_answer(offer, audio, kLocal);
    const std::string detail = std::string(text) + "\n---> answer:\n" + rendered;
    const auto answer = tl::media::parse_sdp(rendered);
    TL_FUZZ_CHECK(answer.has_value(), detail);
    check_parsed(*answer, rendered);
    TL_FUZZ_CHECK(answer->connection_address == kLocal.address, detail);
    TL_FUZZ_CHECK(answer->session_id == kLocal.session_id, detail);

    // RFC 3264 §6: one m-line per offered m-line, in order; all but the chosen one rejected.
    TL_FUZZ_CHECK(answer->media.size() == offer.media.size(), detail);
    const MediaDescription* active = nullptr;
    std::size_t active_index = 0;
    for (std::size_t i = 0; i < answer->media.size(); ++i) {
        const auto& m = answer->media[i];
        TL_FUZZ_CHECK(m.media == offer.media[i].media, detail);
        TL_FUZZ_CHECK(m.protocol == offer.media[i].protocol, detail);
        if (m.port == 0) continue;
        TL_FUZZ_CHECK(active == nullptr, detail);  // only one active stream
        active = &m;
        active_index = i;
    }
    // The first (and only) active audio m-line of the answer is the negotiated stream.
    TL_FUZZ_CHECK(active != nullptr, detail);
    TL_FUZZ_CHECK(active->media == "audio" && active->port == kLocal.port, detail);
    const auto& offered = offer.media[active_index];
    TL_FUZZ_CHECK(offered.media == "audio" && offered.port == audio.remote_port, detail);
    TL_FUZZ_CHECK(!active->formats.empty() && active->formats.front() == audio.payload_type,
                  detail);
    TL_FUZZ_CHECK(active->formats.size() == (audio.telephone_event_pt ? 2u : 1u), detail);
    TL_FUZZ_CHECK(!active->rtpmaps.empty() &&
                      active->rtpmaps.front().payload_type == audio.payload_type &&
                      active->rtpmaps.front().encoding ==
                          (audio.codec == Codec::kPcmu ? "PCMU" : "PCMA") &&
                      active->rtpmaps.front().clock_rate == 8000,
                  detail);
    // The offered payload type was really offered, in the chosen stream.
    TL_FUZZ_CHECK(std::find(offered.formats.begin(), offered.formats.end(), audio.payload_type) !=
                      offered.formats.end(),
                  detail);

    // Direction: the answer says what was negotiated, and mirrors the offer (RFC 3264 §6.1); an
    // offer to 0.0.0.0 / :: (RFC 2543 hold) must never make us send.
    TL_FUZZ_CHECK(active->direction == audio.local_direction, detail);
    Direction offered_direction =
        offered.direction.value_or(offer.direction.value_or(Direction::kSendRecv));
    const bool hold = audio.remote_address == "0.0.0.0" || audio.remote_address == "::";
    if (!hold) {
        TL_FUZZ_CHECK(audio.local_direction == mirror(offered_direction), detail);
    } else {
        TL_FUZZ_CHECK(!sends(audio.local_direction), detail);
        TL_FUZZ_CHECK(receives(audio.local_direction) == sends(offered_direction), detail);
    }
    TL_FUZZ_CHECK(audio.remote_address ==
                      offered.connection_address.value_or(offer.connection_address.value_or("")),
                  detail);

    // The offerer can negotiate our answer (as an outbound leg would): same codec and events,
    // the mirrored direction.
    const auto back = tl::media::negotiate_answer(*answer);
    TL_FUZZ_CHECK(back.has_value(), detail);
    TL_FUZZ_CHECK(back->payload_type == audio.payload_type && back->codec == audio.codec, detail);
    TL_FUZZ_CHECK(back->telephone_event_pt == audio.telephone_event_pt, detail);
    TL_FUZZ_CHECK(back->remote_address == kLocal.address && back->remote_port == kLocal.port,
                  detail);
    TL_FUZZ_CHECK(back->local_direction == mirror(audio.local_direction), detail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto offer = tl::media::parse_sdp(text);
    if (!offer) {
        TL_FUZZ_CHECK(!offer.error().message.empty(), text);
        return 0;
    }
    check_parsed(*offer, text);
    const auto audio = tl::media::negotiate_answer(*offer);
    if (!audio) {
        TL_FUZZ_CHECK(!audio.error().message.empty(), text);
        return 0;
    }
    check_answer(*offer, *audio, text);
    return 0;
}
