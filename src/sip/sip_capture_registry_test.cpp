// Messages reach the capture of the call that follows their Call-ID, in order, including the
// ones that arrived before the call existed; nobody's messages are kept for long.

#include "sip/sip_capture_registry.hpp"

#include <gtest/gtest.h>

namespace tl::sip {
namespace {

CapturedMessage message(std::string raw) {
    CapturedMessage m;
    m.timestamp = std::chrono::system_clock::now();
    m.transport = "udp";
    m.local_ip = m.remote_ip = "127.0.0.1";
    m.local_port = 5060;
    m.remote_port = 5070;
    m.raw = std::move(raw);
    return m;
}

std::vector<std::string> raws(const CallCapture& capture) {
    std::vector<std::string> out;
    for (const auto& m : capture.snapshot().messages) out.push_back(m.raw);
    return out;
}

TEST(SipCaptureRegistry, EarlierMessagesMoveIntoTheCaptureInOrder) {
    SipCaptureRegistry registry;
    registry.record("a@x", message("INVITE"));
    registry.record("b@x", message("OPTIONS"));
    registry.record("a@x", message("100"));
    auto capture = std::make_shared<CallCapture>();
    registry.attach("a@x", capture);
    registry.record("a@x", message("200"));
    registry.record("b@x", message("200 to OPTIONS"));
    EXPECT_EQ(raws(*capture), (std::vector<std::string>{"INVITE", "100", "200"}));
    EXPECT_EQ(registry.pending_call_ids(), 1u);  // b@x
}

TEST(SipCaptureRegistry, OneCaptureFollowsSeveralCallIds) {
    SipCaptureRegistry registry;
    auto capture = std::make_shared<CallCapture>();
    registry.attach("call@x", capture);
    registry.attach("leg@x", capture);
    registry.record("call@x", message("INVITE in"));
    registry.record("leg@x", message("INVITE out"));
    registry.detach("leg@x", capture);
    registry.record("leg@x", message("late"));
    EXPECT_EQ(raws(*capture), (std::vector<std::string>{"INVITE in", "INVITE out"}));
}

TEST(SipCaptureRegistry, AnEndedCallsCaptureIsNotKeptAlive) {
    SipCaptureRegistry registry;
    std::weak_ptr<CallCapture> weak;
    {
        auto capture = std::make_shared<CallCapture>();
        weak = capture;
        registry.attach("gone@x", capture);
    }
    EXPECT_TRUE(weak.expired());
    registry.record("gone@x", message("BYE"));  // goes to pending, harmlessly
    EXPECT_EQ(registry.attached_call_ids(), 0u);
}

TEST(SipCaptureRegistry, PendingMessagesAreBounded) {
    CaptureRegistryLimits limits;
    limits.max_pending_call_ids = 3;
    limits.max_pending_per_call_id = 2;
    SipCaptureRegistry registry(limits);
    for (int i = 0; i < 10; ++i) registry.record("scan" + std::to_string(i), message("OPTIONS"));
    EXPECT_EQ(registry.pending_call_ids(), 3u);
    for (int i = 0; i < 5; ++i) registry.record("scan9", message("retransmission"));
    auto capture = std::make_shared<CallCapture>();
    registry.attach("scan9", capture);
    EXPECT_EQ(capture->snapshot().messages.size(), 2u);
    registry.attach("scan0", capture);  // evicted long ago: nothing to move
    EXPECT_EQ(capture->snapshot().messages.size(), 2u);
}

TEST(SipCaptureRegistry, AChallengedInvitesExchangeGoesToTheCallThatFollows) {
    SipCaptureRegistry registry;
    registry.record("d@x", message("INVITE"));
    auto challenged = std::make_shared<CallCapture>();
    registry.attach("d@x", challenged);
    registry.record("d@x", message("401"));
    registry.release("d@x", challenged);
    registry.record("d@x", message("ACK"));
    registry.record("d@x", message("INVITE with Authorization"));
    auto call = std::make_shared<CallCapture>();
    registry.attach("d@x", call);
    registry.record("d@x", message("200"));
    registry.detach("d@x", challenged);  // not its Call-ID any more: no effect
    registry.record("d@x", message("BYE"));
    EXPECT_EQ(raws(*call), (std::vector<std::string>{"INVITE", "401", "ACK",
                                                     "INVITE with Authorization", "200", "BYE"}));
}

TEST(SipCaptureRegistry, ExporterSeesEveryMessage) {
    SipCaptureRegistry registry;
    std::vector<std::string> exported;
    registry.set_exporter([&](const CapturedMessage& m, std::string_view id) {
        exported.push_back(std::string(id) + " " + m.raw);
    });
    registry.record("a@x", message("INVITE"));
    auto capture = std::make_shared<CallCapture>();
    registry.attach("a@x", capture);
    registry.record("a@x", message("ACK"));
    EXPECT_EQ(exported, (std::vector<std::string>{"a@x INVITE", "a@x ACK"}));
}

}  // namespace
}  // namespace tl::sip
