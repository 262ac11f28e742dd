#include "media/dtmf.hpp"

#include <algorithm>
#include <string_view>

namespace tl::media {

std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload) {
    // RFC 4733 §2.3: event(8) | E(1) R(1) volume(6) | duration(16). Several events may be
    // stacked in one packet (RFC 2198 redundancy aside, not used by DTMF senders we meet);
    // the first is the one we read.
    if (payload.size() < 4) return std::nullopt;
    TelephoneEvent e;
    e.event = payload[0];
    e.end = (payload[1] & 0x80) != 0;
    e.volume = payload[1] & 0x3F;
    e.duration = static_cast<std::uint16_t>(payload[2] << 8 | payload[3]);
    return e;
}

std::optional<char> dtmf_digit(std::uint8_t event) {
    constexpr std::string_view kDigits = "0123456789*#ABCD";
    if (event > 15) return std::nullopt;
    return kDigits[event];
}

void DtmfReceiver::reset() {
    active_ = false;
    have_reported_ = false;
}

std::optional<DtmfDigit> DtmfReceiver::finish(std::uint8_t event, std::uint16_t duration) const {
    const auto digit = dtmf_digit(event);
    if (!digit) return std::nullopt;  // flash and non-DTMF tones are not digits
    return DtmfDigit{*digit, static_cast<int>(duration * 1000LL / std::max(1, clock_rate_))};
}

std::optional<DtmfDigit> DtmfReceiver::on_packet(std::uint32_t rtp_timestamp,
                                                 std::span<const std::uint8_t> payload) {
    const auto e = parse_telephone_event(payload);
    if (!e) return std::nullopt;
    if (have_reported_ && rtp_timestamp == reported_timestamp_) {
        return std::nullopt;  // a redundant end packet, or a straggler of a reported event
    }
    std::optional<DtmfDigit> previous;
    if (active_ && rtp_timestamp != active_timestamp_) {
        // A new event began while the previous one never showed its end: report it now.
        previous = finish(active_event_, active_duration_);
        have_reported_ = true;
        reported_timestamp_ = active_timestamp_;
        active_ = false;
    }
    if (!active_) {
        active_ = true;
        active_timestamp_ = rtp_timestamp;
        active_event_ = e->event;
        active_duration_ = 0;
    }
    active_duration_ = std::max(active_duration_, e->duration);
    if (!e->end) return previous;
    active_ = false;
    have_reported_ = true;
    reported_timestamp_ = rtp_timestamp;
    auto digit = finish(e->event, active_duration_);
    // Two digits at once only when a lost end meets an immediate end packet: keep the older one.
    return previous ? previous : digit;
}

}  // namespace tl::media
