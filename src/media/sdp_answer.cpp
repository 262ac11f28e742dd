// SDP offer/answer for one audio stream (RFC 3264 §5, §6) and rendering of our SDP.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "media/sdp.hpp"

namespace tl::media {
namespace {

constexpr int kOfferTelephoneEventPt = 101;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool is_rtp_avp(std::string_view protocol) {
    // Plain RTP profiles; RTP/SAVP(F) needs SRTP, which this stream does not do.
    return protocol == "RTP/AVP" || protocol == "RTP/AVPF";
}

std::optional<Codec> codec_of(const RtpMap& map) {
    if (map.clock_rate != 8000 || map.channels != 1) return std::nullopt;
    if (iequals(map.encoding, "PCMU")) return Codec::kPcmu;
    if (iequals(map.encoding, "PCMA")) return Codec::kPcma;
    return std::nullopt;
}

std::string_view codec_name(Codec codec) { return codec == Codec::kPcmu ? "PCMU" : "PCMA"; }

struct Choice {
    std::size_t media_index = 0;
    Codec codec = Codec::kPcmu;
    int payload_type = 0;
    std::optional<int> telephone_event_pt;
};

// The first audio stream with a codec we support; within it the first such format in the
// offer's order (the offerer's preference, RFC 3264 §6.1).
std::optional<Choice> choose(const SessionDescription& offer) {
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
        const auto& m = offer.media[i];
        if (m.media != "audio" || m.port == 0 || !is_rtp_avp(m.protocol)) continue;
        std::optional<Choice> choice;
        for (const auto& map : m.rtpmaps) {  // already in m= order
            if (const auto codec = codec_of(map); codec && !choice) {
                choice = Choice{i, *codec, map.payload_type, std::nullopt};
            }
        }
        if (!choice) continue;
        for (const auto& map : m.rtpmaps) {
            if (iequals(map.encoding, "telephone-event") && map.clock_rate == 8000) {
                choice->telephone_event_pt = map.payload_type;
                break;
            }
        }
        return choice;
    }
    return std::nullopt;
}

Direction mirror(Direction offered) {
    switch (offered) {
        case Direction::kSendOnly:
            return Direction::kRecvOnly;
        case Direction::kRecvOnly:
            return Direction::kSendOnly;
        case Direction::kInactive:
            return Direction::kInactive;
        case Direction::kSendRecv:
            return Direction::kSendRecv;
    }
    return Direction::kSendRecv;
}

std::string_view address_type(std::string_view address) {
    return address.find(':') == std::string_view::npos ? "IP4" : "IP6";
}

void append_session_header(std::string& out, const LocalMedia& local) {
    const auto at = address_type(local.address);
    fmt::format_to(std::back_inserter(out),
                   "v=0\r\no=trunkline {} {} IN {} {}\r\ns=trunkline\r\nc=IN {} {}\r\nt=0 0\r\n",
                   local.session_id, local.session_version, at, local.address, at, local.address);
}

void append_audio(std::string& out,
                  std::string_view protocol,
                  int port,
                  std::span<const std::pair<int, Codec>> codecs,
                  std::optional<int> telephone_event_pt,
                  Direction direction) {
    fmt::format_to(std::back_inserter(out), "m=audio {} {}", port, protocol);
    for (const auto& [pt, codec] : codecs) fmt::format_to(std::back_inserter(out), " {}", pt);
    if (telephone_event_pt) fmt::format_to(std::back_inserter(out), " {}", *telephone_event_pt);
    out += "\r\n";
    for (const auto& [pt, codec] : codecs) {
        fmt::format_to(std::back_inserter(out), "a=rtpmap:{} {}/8000\r\n", pt, codec_name(codec));
    }
    if (telephone_event_pt) {
        // Events 0-15 are the DTMF digits, 16 is flash (RFC 4733 §3.2).
        fmt::format_to(std::back_inserter(out),
                       "a=rtpmap:{0} telephone-event/8000\r\na=fmtp:{0} 0-16\r\n",
                       *telephone_event_pt);
    }
    fmt::format_to(std::back_inserter(out), "a=ptime:20\r\na={}\r\n", to_string(direction));
}

}  // namespace

Result<NegotiatedAudio> negotiate_answer(const SessionDescription& offer) {
    const auto choice = choose(offer);
    if (!choice) {
        const bool any_audio = std::any_of(offer.media.begin(), offer.media.end(), [](auto& m) {
            return m.media == "audio" && m.port != 0;
        });
        return make_error(Errc::kInvalidRequest,
                          any_audio
                              ? "no common codec: we accept PCMU/8000 and PCMA/8000 over RTP/AVP"
                              : "the offer has no active audio stream",
                          "sdp");
    }
    const auto& m = offer.media[choice->media_index];
    const auto& address = m.connection_address ? m.connection_address : offer.connection_address;
    if (!address) {
        return make_error(Errc::kInvalidRequest, "invalid SDP: the audio stream has no c= line",
                          "sdp");
    }
    Direction offered = m.direction.value_or(offer.direction.value_or(Direction::kSendRecv));
    if (*address == "0.0.0.0" || *address == "::") {
        // RFC 2543 hold: the offerer will not receive (RFC 3264 §8.4).
        if (offered == Direction::kSendRecv) offered = Direction::kSendOnly;
        if (offered == Direction::kRecvOnly) offered = Direction::kInactive;
    }
    NegotiatedAudio audio;
    audio.codec = choice->codec;
    audio.payload_type = choice->payload_type;
    audio.telephone_event_pt = choice->telephone_event_pt;
    audio.remote_address = *address;
    audio.remote_port = m.port;
    audio.remote_rtcp_port = m.rtcp_port.value_or(m.port + 1);
    audio.local_direction = mirror(offered);
    audio.ptime_ms = 20;  // we always send 20 ms frames (a=ptime is a hint, RFC 4566 §6)
    return audio;
}

std::string render_answer(const SessionDescription& offer,
                          const NegotiatedAudio& audio,
                          const LocalMedia& local) {
    std::string out;
    out.reserve(512);
    append_session_header(out, local);
    const auto choice = choose(offer);
    const std::pair<int, Codec> codec{audio.payload_type, audio.codec};
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
        const auto& m = offer.media[i];
        if (choice && choice->media_index == i) {
            append_audio(out, m.protocol, local.port, std::span(&codec, 1),
                         audio.telephone_event_pt, audio.local_direction);
            continue;
        }
        // Rejected stream (RFC 3264 §6): same media and protocol, port 0, the offered formats.
        fmt::format_to(std::back_inserter(out), "m={} 0 {}", m.media, m.protocol);
        if (m.formats.empty()) out += " 0";
        for (int pt : m.formats) fmt::format_to(std::back_inserter(out), " {}", pt);
        out += "\r\n";
    }
    if (!choice) {
        append_audio(out, "RTP/AVP", local.port, std::span(&codec, 1), audio.telephone_event_pt,
                     audio.local_direction);
    }
    return out;
}

std::string render_offer(const LocalMedia& local, Direction direction) {
    std::string out;
    out.reserve(384);
    append_session_header(out, local);
    constexpr std::array<std::pair<int, Codec>, 2> kCodecs = {
        {{0, Codec::kPcmu}, {8, Codec::kPcma}}};
    append_audio(out, "RTP/AVP", local.port, kCodecs, kOfferTelephoneEventPt, direction);
    return out;
}

}  // namespace tl::media
