#include "media/dtmf.hpp"

#include <algorithm>
#include <cmath>
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

std::optional<std::uint8_t> telephone_event_code(char digit) {
    if (digit >= '0' && digit <= '9') return static_cast<std::uint8_t>(digit - '0');
    if (digit == '*') return 10;
    if (digit == '#') return 11;
    if (digit >= 'A' && digit <= 'D') return static_cast<std::uint8_t>(12 + digit - 'A');
    if (digit >= 'a' && digit <= 'd') return static_cast<std::uint8_t>(12 + digit - 'a');
    return std::nullopt;
}

void write_telephone_event(const TelephoneEvent& event, std::span<std::uint8_t, 4> out) {
    out[0] = event.event;
    out[1] = static_cast<std::uint8_t>((event.end ? 0x80 : 0) | (event.volume & 0x3F));
    out[2] = static_cast<std::uint8_t>(event.duration >> 8);
    out[3] = static_cast<std::uint8_t>(event.duration & 0xFF);
}

std::vector<std::int16_t> dtmf_tone(char digit, int duration_ms) {
    const auto code = telephone_event_code(digit);
    if (!code) return {};
    // Event codes 0-15 map onto the keypad: digits, *, #, A-D.
    static constexpr std::array<int, 16> kRow = {941, 697, 697, 697, 770, 770, 770, 852,
                                                 852, 852, 941, 941, 697, 770, 852, 941};
    static constexpr std::array<int, 16> kColumn = {1336, 1209, 1336, 1477, 1209, 1336,
                                                    1477, 1209, 1336, 1477, 1209, 1477,
                                                    1633, 1633, 1633, 1633};
    const std::size_t samples = static_cast<std::size_t>(std::max(0, duration_ms)) * 8;
    std::vector<std::int16_t> tone(samples);
    const double row = 2 * M_PI * kRow[*code] / 8000.0;
    const double column = 2 * M_PI * kColumn[*code] / 8000.0;
    for (std::size_t i = 0; i < samples; ++i) {
        const double t = static_cast<double>(i);
        tone[i] = static_cast<std::int16_t>(5000 * (std::sin(row * t) + std::sin(column * t)));
    }
    return tone;
}

namespace {
constexpr int kSamplesPerTick = 160;  // 20 ms at 8 kHz
constexpr int kEndRepeats = 3;
// With the two repeated end packets, 3 silent ticks make 100 ms between digits: what IVRs
// expect and what send-dtmf promises.
constexpr int kGapTicks = 3;
constexpr std::uint8_t kVolume = 10;  // -10 dBm0, a typical key press
}  // namespace

bool DtmfSender::queue(char digit, int duration_ms) {
    const auto code = telephone_event_code(digit);
    if (!code || pending_count_ == kMaxPending) return false;
    const int ms = std::clamp(duration_ms, 40, 5000);
    pending_[(pending_head_ + pending_count_) % kMaxPending] = {*code, (ms + 19) / 20};
    ++pending_count_;
    return true;
}

std::optional<DtmfSender::Packet> DtmfSender::tick(std::uint32_t timestamp) {
    if (!active_) {
        if (gap_frames_ > 0) {
            --gap_frames_;
            return std::nullopt;
        }
        if (pending_count_ == 0) return std::nullopt;
        current_ = pending_[pending_head_];
        pending_head_ = (pending_head_ + 1) % kMaxPending;
        --pending_count_;
        active_ = true;
        start_timestamp_ = timestamp;
        frames_sent_ = 0;
    }
    ++frames_sent_;
    const bool end = frames_sent_ >= current_.frames;
    // The duration never passes 0xFFFF (§2.5.1.3); our cap of 5 s is far below it.
    const int ticks = std::min(frames_sent_, current_.frames);
    Packet packet;
    packet.marker = frames_sent_ == 1;
    packet.timestamp = start_timestamp_;
    write_telephone_event({current_.event, end, kVolume,
                           static_cast<std::uint16_t>(ticks * kSamplesPerTick)},
                          packet.payload);
    if (frames_sent_ >= current_.frames + kEndRepeats - 1) {
        active_ = false;
        gap_frames_ = kGapTicks;
    }
    return packet;
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
