#pragma once
// SDP (RFC 4566) parsing and offer/answer (RFC 3264) for one audio stream.
// Parsing untrusted SDP never throws: errors are tl::Errc::kInvalidRequest (SIP 488/400 upstream).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tl::media {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };

std::string_view to_string(Direction d);

struct RtpMap {
    int payload_type = -1;
    std::string encoding;  // as written, e.g. "PCMU", "telephone-event"
    int clock_rate = 8000;
    int channels = 1;
    std::string fmtp;  // a=fmtp parameters, raw
};

struct MediaDescription {
    std::string media;            // "audio"
    int port = 0;                 // 0 = stream rejected/disabled
    std::string protocol;         // "RTP/AVP", "RTP/SAVP", ...
    std::vector<int> formats;     // payload types in preference order
    std::vector<RtpMap> rtpmaps;  // explicit a=rtpmap lines plus static types filled in
    std::optional<std::string> connection_address;  // media-level c= (overrides session-level)
    std::optional<Direction> direction;
    std::optional<int> ptime;
    std::optional<int> rtcp_port;  // a=rtcp (RFC 3605)
};

struct SessionDescription {
    std::string origin_username = "-";
    std::uint64_t session_id = 0;
    std::uint64_t session_version = 0;
    std::string origin_address;
    std::optional<std::string> connection_address;  // session-level c=
    std::optional<Direction> direction;             // session-level attribute
    std::vector<MediaDescription> media;
};

Result<SessionDescription> parse_sdp(std::string_view text);

// The codecs we offer/accept, in our preference order.
enum class Codec { kPcmu, kPcma };

struct LocalMedia {
    std::string address;  // IP placed in c= and o= (the --public-ip or the bound address)
    int port = 0;         // our RTP port (RTCP = port + 1)
    std::uint64_t session_id = 0;
    std::uint64_t session_version = 0;
};

// What an answer decided for the audio stream.
struct NegotiatedAudio {
    Codec codec = Codec::kPcmu;
    int payload_type = 0;
    std::optional<int> telephone_event_pt;  // RFC 4733, when both sides support it
    std::string remote_address;             // from the offer (media-level c= else session-level)
    int remote_port = 0;
    int remote_rtcp_port = 0;
    Direction local_direction = Direction::kSendRecv;  // our direction in the answer
    int ptime_ms = 20;
};

// Chooses the first audio stream we support; kInvalidRequest ("no common codec" / malformed) when
// none. The direction answered mirrors the offer: sendonly -> recvonly, recvonly -> sendonly,
// inactive -> inactive (RFC 3264 §6.1); a c= of 0.0.0.0 (RFC 2543 hold) counts as sendonly.
Result<NegotiatedAudio> negotiate_answer(const SessionDescription& offer);

// Renders our answer (or offer) SDP for the negotiated stream; other offered streams are rejected
// with port 0 in the answer as RFC 3264 §6 requires (pass the offer to keep m-line order).
std::string render_answer(const SessionDescription& offer,
                          const NegotiatedAudio& audio,
                          const LocalMedia& local);

// An offer of PCMU, PCMA and telephone-event 101 (for outbound legs and the test phone).
std::string render_offer(const LocalMedia& local, Direction direction = Direction::kSendRecv);

}  // namespace tl::media
