#include "media/sdp.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

// SDP parsing (RFC 4566 §5). The text is untrusted: every line is bounded, counts are capped and
// nothing throws. Lines of types we do not use (b=, k=, z=, r=, i=, u=, e=, p=) and attributes we
// do not know are ignored, as §5 asks of parsers.

namespace tl::media {
namespace {

constexpr std::size_t kMaxSdpBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxLines = 1024;
constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::size_t kMaxMedia = 16;
constexpr std::size_t kMaxFormats = 64;
constexpr std::size_t kMaxEncodingBytes = 64;

Error invalid(std::string message) {
    return make_error(Errc::kInvalidRequest, "invalid SDP: " + std::move(message), "sdp");
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// Splits off the next space-separated token.
std::string_view next_token(std::string_view& s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    const auto end = s.find(' ');
    const auto token = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    return token;
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
    T value{};
    const auto* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, value);
    if (ec != std::errc{} || ptr != end || s.empty()) return std::nullopt;
    return value;
}

std::optional<int> parse_port(std::string_view s) {
    // "port/number-of-ports" (RFC 4566 §5.14); we only use the port.
    const auto port = parse_number<int>(s.substr(0, s.find('/')));
    if (!port || *port < 0 || *port > 65535) return std::nullopt;
    return port;
}

std::optional<Direction> parse_direction(std::string_view attribute) {
    if (attribute == "sendrecv") return Direction::kSendRecv;
    if (attribute == "sendonly") return Direction::kSendOnly;
    if (attribute == "recvonly") return Direction::kRecvOnly;
    if (attribute == "inactive") return Direction::kInactive;
    return std::nullopt;
}

// c=IN IP4 <address>[/ttl[/count]] (RFC 4566 §5.7).
Result<std::string> parse_connection(std::string_view value) {
    const auto net_type = next_token(value);
    const auto addr_type = next_token(value);
    auto address = next_token(value);
    if (net_type != "IN" || (addr_type != "IP4" && addr_type != "IP6") || address.empty()) {
        return invalid("malformed c= line");
    }
    if (addr_type == "IP4") address = address.substr(0, address.find('/'));
    if (address.empty() || address.size() > 64) return invalid("malformed c= address");
    return std::string(address);
}

struct StaticPayload {
    int payload_type;
    std::string_view encoding;
    int clock_rate;
};

// RFC 3551 §6, table 4: the static audio payload types that may appear without a=rtpmap.
constexpr std::array kStaticPayloads = {
    StaticPayload{0, "PCMU", 8000}, StaticPayload{3, "GSM", 8000},  StaticPayload{4, "G723", 8000},
    StaticPayload{8, "PCMA", 8000}, StaticPayload{9, "G722", 8000}, StaticPayload{18, "G729", 8000},
};

struct PendingFmtp {
    int payload_type;
    std::string params;
};

struct MediaBuilder {
    MediaDescription media;
    std::vector<RtpMap> rtpmaps;  // as written, any order
    std::vector<PendingFmtp> fmtps;

    // Orders rtpmaps like the m= line, fills static types in, attaches fmtp parameters.
    MediaDescription finish() {
        for (int pt : media.formats) {
            auto it = std::find_if(rtpmaps.begin(), rtpmaps.end(),
                                   [pt](const RtpMap& m) { return m.payload_type == pt; });
            RtpMap map;
            if (it != rtpmaps.end()) {
                map = std::move(*it);
            } else {
                const auto* st =
                    std::find_if(kStaticPayloads.begin(), kStaticPayloads.end(),
                                 [pt](const StaticPayload& s) { return s.payload_type == pt; });
                if (st == kStaticPayloads.end()) continue;  // unknown dynamic type: unusable
                map.payload_type = pt;
                map.encoding = std::string(st->encoding);
                map.clock_rate = st->clock_rate;
            }
            for (auto& f : fmtps) {
                if (f.payload_type == pt) map.fmtp = std::move(f.params);
            }
            media.rtpmaps.push_back(std::move(map));
        }
        return std::move(media);
    }
};

// a=rtpmap:<pt> <encoding>/<clock>[/<channels>] (RFC 4566 §6).
std::optional<RtpMap> parse_rtpmap(std::string_view value) {
    const auto pt = parse_number<int>(next_token(value));
    auto spec = trim(value);
    if (!pt || *pt < 0 || *pt > 127) return std::nullopt;
    const auto slash = spec.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash > kMaxEncodingBytes) {
        return std::nullopt;
    }
    RtpMap map;
    map.payload_type = *pt;
    map.encoding = std::string(spec.substr(0, slash));
    auto rest = spec.substr(slash + 1);
    const auto slash2 = rest.find('/');
    const auto clock = parse_number<int>(rest.substr(0, slash2));
    if (!clock || *clock <= 0) return std::nullopt;
    map.clock_rate = *clock;
    if (slash2 != std::string_view::npos) {
        const auto channels = parse_number<int>(rest.substr(slash2 + 1));
        if (!channels || *channels <= 0) return std::nullopt;
        map.channels = *channels;
    }
    return map;
}

}  // namespace

std::string_view to_string(Direction d) {
    switch (d) {
        case Direction::kSendRecv:
            return "sendrecv";
        case Direction::kSendOnly:
            return "sendonly";
        case Direction::kRecvOnly:
            return "recvonly";
        case Direction::kInactive:
            return "inactive";
    }
    return "sendrecv";
}

namespace {

// One pass over the lines; each line type has its handler. A handler returns an Error only for
// what makes the description unusable (a broken o=, c= or m= line).
class SdpParser {
public:
    Status line(char type, std::string_view value) {
        switch (type) {
            case 'o':
                return origin(value);
            case 'c':
                return connection(value);
            case 'm':
                return media(value);
            case 'a':
                attribute(value);
                return {};
            default:
                return {};  // s=, t=, b=, i=, u=, e=, p=, k=, z=, r= and unknown types
        }
    }

    Result<SessionDescription> finish() {
        if (current_) session_.media.push_back(current_->finish());
        if (!seen_origin_) return invalid("missing o= line");
        return std::move(session_);
    }

private:
    // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>
    Status origin(std::string_view value) {
        if (current_) return {};  // only meaningful at session level
        const auto user = next_token(value);
        const auto id = parse_number<std::uint64_t>(next_token(value));
        const auto version = parse_number<std::uint64_t>(next_token(value));
        const auto net = next_token(value);
        next_token(value);
        const auto address = next_token(value);
        if (user.empty() || !id || !version || net != "IN" || address.empty() ||
            user.size() > 256 || address.size() > 256) {
            return invalid("malformed o= line");
        }
        session_.origin_username = std::string(user);
        session_.session_id = *id;
        session_.session_version = *version;
        session_.origin_address = std::string(address);
        seen_origin_ = true;
        return {};
    }

    Status connection(std::string_view value) {
        auto address = parse_connection(value);
        if (!address) return address.error();
        (current_ ? current_->media.connection_address : session_.connection_address) =
            std::move(*address);
        return {};
    }

    // m=<media> <port>[/<count>] <proto> <fmt> ...
    Status media(std::string_view value) {
        if (current_) session_.media.push_back(current_->finish());
        if (session_.media.size() >= kMaxMedia) return invalid("too many m= lines");
        current_.emplace();
        auto& m = current_->media;
        const auto media = next_token(value);
        const auto port = parse_port(next_token(value));
        const auto proto = next_token(value);
        if (media.empty() || media.size() > 32 || !port || proto.empty() || proto.size() > 32) {
            return invalid("malformed m= line");
        }
        m.media = std::string(media);
        m.port = *port;
        m.protocol = std::string(proto);
        for (auto fmt = next_token(value); !fmt.empty(); fmt = next_token(value)) {
            if (m.formats.size() >= kMaxFormats) return invalid("too many formats");
            // Non-RTP media (e.g. m=application ... webrtc-datachannel) has non-numeric formats;
            // keep RTP payload types only.
            if (const auto pt = parse_number<int>(fmt); pt && *pt >= 0 && *pt <= 127) {
                m.formats.push_back(*pt);
            }
        }
        return {};
    }

    // Attributes never fail the parse: a broken one is ignored like an unknown one.
    void attribute(std::string_view value) {
        const auto colon = value.find(':');
        const auto name = trim(value.substr(0, colon));
        const auto arg =
            colon == std::string_view::npos ? std::string_view{} : trim(value.substr(colon + 1));
        if (const auto dir = parse_direction(name)) {
            (current_ ? current_->media.direction : session_.direction) = dir;
            return;
        }
        if (!current_) return;  // other session-level attributes do not concern us
        auto& m = *current_;
        if (name == "rtpmap") {
            if (m.rtpmaps.size() >= kMaxFormats) return;
            if (auto map = parse_rtpmap(arg)) m.rtpmaps.push_back(std::move(*map));
        } else if (name == "fmtp") {
            auto rest = arg;
            const auto pt = parse_number<int>(next_token(rest));
            if (pt && m.fmtps.size() < kMaxFormats)
                m.fmtps.push_back({*pt, std::string(trim(rest))});
        } else if (name == "ptime") {
            if (const auto ms = parse_number<int>(arg); ms && *ms > 0 && *ms <= 1000) {
                m.media.ptime = ms;
            }
        } else if (name == "rtcp") {
            // a=rtcp:<port> [IN IP4 <address>] (RFC 3605)
            auto rest = arg;
            if (const auto port = parse_port(next_token(rest)); port && *port > 0) {
                m.media.rtcp_port = port;
            }
        }
    }

    SessionDescription session_;
    std::optional<MediaBuilder> current_;
    bool seen_origin_ = false;
};

}  // namespace

Result<SessionDescription> parse_sdp(std::string_view text) {
    if (text.size() > kMaxSdpBytes) return invalid("body larger than 64 KiB");
    SdpParser parser;
    bool seen_version = false;
    std::size_t line_count = 0;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) continue;  // tolerate blank lines (trailing CRLF, sloppy peers)
        if (++line_count > kMaxLines) return invalid("too many lines");
        if (line.size() > kMaxLineBytes) return invalid("line longer than 4096 bytes");
        if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
            return invalid("line " + std::to_string(line_count) + " is not <type>=<value>");
        }
        const auto value = line.substr(2);
        if (!seen_version) {  // RFC 4566 §5: the description starts with v=0
            if (line[0] != 'v' || trim(value) != "0") return invalid("must start with v=0");
            seen_version = true;
            continue;
        }
        if (auto status = parser.line(line[0], value); !status) return status.error();
    }
    if (!seen_version) return invalid("empty body");
    return parser.finish();
}

}  // namespace tl::media
