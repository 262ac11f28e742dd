#pragma once
// Test fixture (tests only): a realistic call as the capture sees it. A carrier (203.0.113.10)
// calls us (10.0.0.5:5060); the assistant transfers it, so we call a desk (198.51.100.20) on a
// second leg; the carrier hangs up and we hang up the desk. The legs' messages interleave.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "sip/capture/capture_snapshot.hpp"

namespace tl::sip::test {

// 2026-12-07T19:13:46.123456Z
inline std::chrono::system_clock::time_point call_start() {
    using namespace std::chrono;
    return time_point_cast<system_clock::duration>(sys_days{year{2026} / 12 / 7} + hours{19} +
                                                   minutes{13} + seconds{46} +
                                                   microseconds{123456});
}

inline constexpr std::string_view kOurIp = "10.0.0.5";
inline constexpr std::string_view kCarrierIp = "203.0.113.10";
inline constexpr std::string_view kDeskIp = "198.51.100.20";

inline CapturedMessage message(long long at_ms,
                               Direction direction,
                               std::string_view remote_ip,
                               std::string_view raw,
                               std::string_view transport = "udp") {
    CapturedMessage m;
    m.timestamp = call_start() + std::chrono::milliseconds{at_ms};
    m.direction = direction;
    m.transport = std::string(transport);
    m.local_ip = std::string(kOurIp);
    m.local_port = 5060;
    m.remote_ip = std::string(remote_ip);
    m.remote_port = 5060;
    m.raw = std::string(raw);
    return m;
}

// Headers shared by the carrier leg's messages, after the start line.
inline std::string carrier_headers(std::string_view cseq) {
    return "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-c1\r\n"
           "From: <sip:+15550100@203.0.113.10>;tag=c1\r\n"
           "To: <sip:+15550199@10.0.0.5>;tag=t1\r\n"
           "Call-ID: carrier-call-1@203.0.113.10\r\n"
           "CSeq: " +
           std::string(cseq) + "\r\nContent-Length: 0\r\n\r\n";
}

inline std::string desk_headers(std::string_view cseq) {
    return "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-d1\r\n"
           "From: <sip:assistant@10.0.0.5>;tag=a1\r\n"
           "To: <sip:desk@198.51.100.20>;tag=d1\r\n"
           "Call-ID: desk-leg-1@10.0.0.5\r\n"
           "cseq: " +
           std::string(cseq) + "\r\nContent-Length: 0\r\n\r\n";
}

struct Row {
    Direction direction;
    std::string_view remote_ip;
    std::string_view label;  // what the ladder shows
};

// The call in the order it happened, and what each row of its ladder shows.
inline const std::vector<Row>& transfer_call_rows() {
    static const std::vector<Row> rows{
        {Direction::kIn, kCarrierIp, "INVITE"},
        {Direction::kOut, kCarrierIp, "100 Trying (INVITE)"},
        {Direction::kOut, kCarrierIp, "180 Ringing (INVITE)"},
        {Direction::kOut, kCarrierIp, "200 OK (INVITE)"},
        {Direction::kIn, kCarrierIp, "ACK"},
        {Direction::kOut, kDeskIp, "INVITE"},
        {Direction::kIn, kDeskIp, "100 Trying (INVITE)"},
        {Direction::kIn, kDeskIp, "200 OK (INVITE)"},
        {Direction::kOut, kDeskIp, "ACK"},
        {Direction::kIn, kCarrierIp, "BYE"},
        {Direction::kOut, kCarrierIp, "200 OK (BYE)"},
        {Direction::kOut, kDeskIp, "BYE"},
        {Direction::kIn, kDeskIp, "200 OK (BYE)"},
    };
    return rows;
}

inline CaptureSnapshot transfer_call() {
    const auto carrier = [](std::string_view start, std::string_view cseq) {
        return std::string(start) + "\r\n" + carrier_headers(cseq);
    };
    const auto desk = [](std::string_view start, std::string_view cseq) {
        return std::string(start) + "\r\n" + desk_headers(cseq);
    };
    CaptureSnapshot s;
    const auto in = Direction::kIn;
    const auto out = Direction::kOut;
    s.messages = {
        message(0, in, kCarrierIp, carrier("INVITE sip:+15550199@10.0.0.5 SIP/2.0", "1 INVITE")),
        message(1, out, kCarrierIp, carrier("SIP/2.0 100 Trying", "1 INVITE")),
        message(40, out, kCarrierIp, carrier("SIP/2.0 180 Ringing", "1 INVITE")),
        message(1234, out, kCarrierIp, carrier("SIP/2.0 200 OK", "1 INVITE")),
        message(1290, in, kCarrierIp, carrier("ACK sip:+15550199@10.0.0.5 SIP/2.0", "1 ACK")),
        message(15000, out, kDeskIp, desk("INVITE sip:desk@198.51.100.20 SIP/2.0", "7 INVITE")),
        message(15020, in, kDeskIp, desk("SIP/2.0 100 Trying", "7 INVITE")),
        message(18500, in, kDeskIp, desk("SIP/2.0 200 OK", "7 INVITE")),
        message(18510, out, kDeskIp, desk("ACK sip:desk@198.51.100.20 SIP/2.0", "7 ACK")),
        message(60000, in, kCarrierIp, carrier("BYE sip:+15550199@10.0.0.5 SIP/2.0", "2 BYE")),
        message(60001, out, kCarrierIp, carrier("SIP/2.0 200 OK", "2 BYE")),
        message(60002, out, kDeskIp, desk("BYE sip:desk@198.51.100.20 SIP/2.0", "8 BYE")),
        message(60100, in, kDeskIp, desk("SIP/2.0 200 OK", "8 BYE")),
    };
    return s;
}

}  // namespace tl::sip::test
