#pragma once
// RFC 4733 telephone-event receive: decodes the 4-byte event payload (§2.3) and turns a stream
// of event packets into one digit per key press. Not thread-safe: one receiver per RTP session,
// used on its strand. No allocation.

#include <cstdint>
#include <optional>
#include <span>

namespace tl::media {

struct TelephoneEvent {
    std::uint8_t event = 0;      // 0-9, 10 = '*', 11 = '#', 12-15 = A-D, 16 = flash (§3.2)
    bool end = false;            // E bit
    std::uint8_t volume = 0;     // 0..63, in -dBm0
    std::uint16_t duration = 0;  // in RTP timestamp units since the event began
};

std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload);

// '0'-'9', '*', '#', 'A'-'D'; nullopt for other events.
std::optional<char> dtmf_digit(std::uint8_t event);

struct DtmfDigit {
    char digit = 0;
    int duration_ms = 0;
};

class DtmfReceiver {
public:
    explicit DtmfReceiver(int clock_rate = 8000) : clock_rate_(clock_rate) {}

    // Feeds one telephone-event packet. Every packet of one event carries the event's start
    // timestamp (§2.5.1.2). Returns the digit once: at the first end packet, ignoring the
    // retransmitted end packets (§2.5.1.4) and any late packet of an event already reported.
    // An event whose end packets were all lost is reported when the next event begins.
    std::optional<DtmfDigit> on_packet(std::uint32_t rtp_timestamp,
                                       std::span<const std::uint8_t> payload);

    void reset();

private:
    std::optional<DtmfDigit> finish(std::uint8_t event, std::uint16_t duration) const;

    int clock_rate_;
    bool active_ = false;  // an event is in progress (not yet reported)
    std::uint32_t active_timestamp_ = 0;
    std::uint8_t active_event_ = 0;
    std::uint16_t active_duration_ = 0;
    bool have_reported_ = false;
    std::uint32_t reported_timestamp_ = 0;
};

}  // namespace tl::media
