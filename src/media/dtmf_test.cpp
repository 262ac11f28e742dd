#include "media/dtmf.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

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
