#include "media/dtmf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "media/test_tone.hpp"

namespace tl::media {
namespace {

std::array<std::uint8_t, 4> event_payload(std::uint8_t event, bool end, std::uint16_t duration) {
    return {event, static_cast<std::uint8_t>((end ? 0x80 : 0) | 10),
            static_cast<std::uint8_t>(duration >> 8), static_cast<std::uint8_t>(duration)};
}

// What a phone sends for one key press (RFC 4733 §2.5): updates every 20 ms with a growing
// duration, then the end packet three times.
std::vector<std::optional<DtmfDigit>> press(
    DtmfReceiver& rx, std::uint8_t event, std::uint32_t ts, int updates, int end_copies = 3) {
    std::vector<std::optional<DtmfDigit>> out;
    for (int i = 1; i <= updates; ++i) {
        out.push_back(
            rx.on_packet(ts, event_payload(event, false, static_cast<std::uint16_t>(160 * i))));
    }
    for (int i = 0; i < end_copies; ++i) {
        out.push_back(rx.on_packet(
            ts, event_payload(event, true, static_cast<std::uint16_t>(160 * (updates + 1)))));
    }
    return out;
}

int count_digits(const std::vector<std::optional<DtmfDigit>>& v) {
    int n = 0;
    for (const auto& d : v) n += d.has_value();
    return n;
}

TEST(Dtmf, ParsesTheEventPayload) {
    const std::array<std::uint8_t, 4> p = {11, 0x8A, 0x03, 0x20};
    auto e = parse_telephone_event(p);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->event, 11);
    EXPECT_TRUE(e->end);
    EXPECT_EQ(e->volume, 10);
    EXPECT_EQ(e->duration, 800);
    EXPECT_FALSE(parse_telephone_event(std::span(p).first(3)));
}

TEST(Dtmf, EventCodesMapToDigits) {
    const std::string_view expected = "0123456789*#ABCD";
    for (std::uint8_t e = 0; e < 16; ++e) EXPECT_EQ(dtmf_digit(e), expected[e]);
    EXPECT_FALSE(dtmf_digit(16));  // flash
    EXPECT_FALSE(dtmf_digit(255));
}

TEST(Dtmf, OneDigitPerPressDespiteRedundantEndPackets) {
    DtmfReceiver rx;
    auto results = press(rx, 5, 1000, 4);
    EXPECT_EQ(count_digits(results), 1);
    ASSERT_TRUE(results[4]);  // the first end packet reports
    EXPECT_EQ(results[4]->digit, '5');
    EXPECT_EQ(results[4]->duration_ms, 100);  // 800 samples at 8 kHz
    // A straggler of the same event afterwards is ignored too.
    EXPECT_FALSE(rx.on_packet(1000, event_payload(5, false, 320)));
}

TEST(Dtmf, ConsecutivePressesOfTheSameKeyAreSeparateDigits) {
    DtmfReceiver rx;
    EXPECT_EQ(count_digits(press(rx, 1, 8000, 3)), 1);
    EXPECT_EQ(count_digits(press(rx, 1, 16000, 3)), 1);
    EXPECT_EQ(count_digits(press(rx, 11, 24000, 2)), 1);
}

TEST(Dtmf, AnEventWhoseEndWasLostIsReportedWhenTheNextBegins) {
    DtmfReceiver rx;
    EXPECT_EQ(count_digits(press(rx, 7, 100, 5, 0)), 0);  // no end packets at all
    auto next = rx.on_packet(2000, event_payload(8, false, 160));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->digit, '7');
    EXPECT_EQ(next->duration_ms, 100);  // last duration seen: 5 * 160 samples
    auto results = press(rx, 8, 2000, 2);
    EXPECT_EQ(count_digits(results), 1);
}

TEST(Dtmf, OnlyEndPacketsStillGiveOneDigit) {
    DtmfReceiver rx;
    auto results = press(rx, 0, 5000, 0);
    EXPECT_EQ(count_digits(results), 1);
    ASSERT_TRUE(results[0]);
    EXPECT_EQ(results[0]->digit, '0');
}

TEST(Dtmf, FlashIsNotADigit) {
    DtmfReceiver rx;
    EXPECT_EQ(count_digits(press(rx, 16, 5000, 2)), 0);
}

TEST(Dtmf, ShortPayloadIsIgnored) {
    DtmfReceiver rx;
    const std::array<std::uint8_t, 2> p = {5, 0x80};
    EXPECT_FALSE(rx.on_packet(1, p));
}

}  // namespace
}  // namespace tl::media

namespace tl::media {
namespace {

TEST(DtmfSender, EncodesADigitAsGrowingEventsThenThreeEndPacketsThenAGap) {
    DtmfSender sender;
    ASSERT_TRUE(sender.queue('7', 100));  // five 20 ms ticks
    std::vector<DtmfSender::Packet> packets;
    std::uint32_t ts = 1000;
    for (int tick = 0; tick < 12; ++tick, ts += 160) {
        if (auto p = sender.tick(ts)) packets.push_back(*p);
    }
    ASSERT_EQ(packets.size(), 7u);  // 4 growing + 3 end
    DtmfReceiver receiver;
    std::optional<DtmfDigit> digit;
    for (std::size_t i = 0; i < packets.size(); ++i) {
        const auto e = parse_telephone_event(packets[i].payload);
        ASSERT_TRUE(e);
        EXPECT_EQ(e->event, 7);
        EXPECT_EQ(packets[i].timestamp, 1000u) << "every packet carries the start timestamp";
        EXPECT_EQ(packets[i].marker, i == 0);
        EXPECT_EQ(e->end, i >= 4);
        EXPECT_EQ(e->duration, 160 * std::min<int>(static_cast<int>(i) + 1, 5));
        if (auto d = receiver.on_packet(packets[i].timestamp, packets[i].payload)) {
            EXPECT_FALSE(digit) << "one digit per press";
            digit = d;
        }
    }
    ASSERT_TRUE(digit);
    EXPECT_EQ(digit->digit, '7');
    EXPECT_EQ(digit->duration_ms, 100);
    EXPECT_FALSE(sender.busy());
}

TEST(DtmfSender, ConsecutiveDigitsHaveDistinctTimestampsAndAGapBetweenThem) {
    DtmfSender sender;
    ASSERT_TRUE(sender.queue('#', 40));
    ASSERT_TRUE(sender.queue('a', 40));  // lower case is the same key as 'A'
    EXPECT_FALSE(sender.queue('x', 40));
    std::vector<std::pair<std::uint32_t, std::optional<DtmfSender::Packet>>> ticks;
    std::uint32_t ts = 0;
    for (int tick = 0; tick < 12; ++tick, ts += 160) ticks.emplace_back(ts, sender.tick(ts));
    DtmfReceiver receiver;
    std::string digits;
    int silent_between = 0;
    bool first_done = false;
    for (const auto& [at, p] : ticks) {
        if (!p) {
            if (first_done && digits.size() == 1) ++silent_between;
            continue;
        }
        if (auto d = receiver.on_packet(p->timestamp, p->payload)) {
            digits += d->digit;
            first_done = true;
        }
    }
    EXPECT_EQ(digits, "#A");
    EXPECT_GE(silent_between, 2);
}

TEST(DtmfSender, QueueIsBounded) {
    DtmfSender sender;
    for (std::size_t i = 0; i < DtmfSender::kMaxPending; ++i) EXPECT_TRUE(sender.queue('1', 40));
    EXPECT_FALSE(sender.queue('1', 40));
}

TEST(DtmfTone, HasTheKeypadRowAndColumnFrequencies) {
    const auto tone = dtmf_tone('5', 100);  // 770 Hz + 1336 Hz
    ASSERT_EQ(tone.size(), 800u);
    const auto power = [&](double hz) { return test::goertzel_power(tone, hz, 8000); };
    EXPECT_GT(power(770) / power(697), 100.0);
    EXPECT_GT(power(1336) / power(1209), 100.0);
    EXPECT_TRUE(dtmf_tone('x', 100).empty());
}

}  // namespace
}  // namespace tl::media
