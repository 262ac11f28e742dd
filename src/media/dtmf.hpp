#pragma once
// RFC 4733 telephone-events: the receiver decodes the 4-byte event payload (§2.3) and turns a
// stream of event packets into one digit per key press; the sender turns queued digits into the
// packets of one 20 ms tick each. Not thread-safe: one of each per RTP session, used on its
// strand. No allocation.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

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

// The inverse: the event code of a digit ('a'-'d' accepted too); nullopt for anything else.
std::optional<std::uint8_t> telephone_event_code(char digit);

void write_telephone_event(const TelephoneEvent& event, std::span<std::uint8_t, 4> out);

// The in-band dual tone of a digit (ITU-T Q.23 row + column frequencies), 8 kHz, for far ends
// without telephone-event; empty for a non-DTMF character. Allocates: not for per-packet use.
std::vector<std::int16_t> dtmf_tone(char digit, int duration_ms);

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

// Sends digits as RFC 4733 events on the 20 ms grid of an RTP session: one packet per tick
// while a digit lasts (marker on the first, the event's start timestamp on all, the duration
// growing), then the end packet three times (§2.5.1.4, for loss), then three silent ticks (100 ms
// after the tone) before the next digit so receivers see separate key presses.
class DtmfSender {
public:
    static constexpr std::size_t kMaxPending = 32;

    // Queues a digit for at least `duration_ms` (clamped to 40..5000). False when `digit` is not
    // DTMF or kMaxPending digits already wait.
    bool queue(char digit, int duration_ms);

    struct Packet {
        bool marker = false;
        std::uint32_t timestamp = 0;  // the event's start (all its packets carry it)
        std::array<std::uint8_t, 4> payload{};
    };

    // One tick: the packet to send instead of audio now, or nullopt (send audio). `timestamp` is
    // the RTP timestamp of the frame due now.
    std::optional<Packet> tick(std::uint32_t timestamp);

    bool busy() const { return active_ || pending_count_ > 0; }

private:
    struct Pending {
        std::uint8_t event = 0;
        int frames = 0;
    };
    std::array<Pending, kMaxPending> pending_{};
    std::size_t pending_head_ = 0;
    std::size_t pending_count_ = 0;
    bool active_ = false;
    Pending current_{};
    std::uint32_t start_timestamp_ = 0;
    int frames_sent_ = 0;  // packets of the current event so far
    int gap_frames_ = 0;   // silent ticks still due after the last event
};

}  // namespace tl::media
