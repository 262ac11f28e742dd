// Fuzz-style checks over random and mangled input: the functions that read untrusted bytes
// (a peer's SIP message, a stored capture document) must neither crash nor throw, and what
// comes out must keep its promises. The seed is fixed, so a failure reproduces.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <random>
#include <string>
#include <string_view>

#include "sip/capture/capture_json.hpp"
#include "sip/capture/hep.hpp"
#include "sip/capture/ladder.hpp"
#include "sip/capture/pcap.hpp"
#include "sip/capture/redaction.hpp"
#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

constexpr std::string_view kFragments[] = {
    "Authorization:",
    "Proxy-Authorization :",
    "Digest ",
    "Basic ",
    "response=",
    "\"",
    "\\",
    ",",
    "=",
    " ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    "\r\n ",
    "\r\n\r\n",
    "a=crypto:1 ",
    "inline:",
    "|",
    ";",
    "SIP/2.0 ",
    "200 OK",
    "INVITE ",
    "CSeq: 1 INVITE",
    "secret",
    "\xff\xfe",
    "\0",
};

std::string random_message(std::mt19937& rng) {
    std::string s;
    const int parts = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < parts; ++i) {
        if (rng() % 4 == 0) {
            s.push_back(static_cast<char>(rng() % 256));
        } else {
            const auto& f = kFragments[rng() % std::size(kFragments)];
            s.append(f.empty() ? std::string_view("\0", 1) : f);
        }
    }
    return s;
}

TEST(Robustness, RedactionSurvivesGarbageAndHidesTheSecret) {
    std::mt19937 rng(20261207);
    for (int i = 0; i < 20000; ++i) {
        const std::string raw = random_message(rng);
        const std::string redacted = redact_sip_message(raw);
        // Redacting twice changes nothing more.
        ASSERT_EQ(redact_sip_message(redacted), redacted) << testing::PrintToString(raw);
    }
}

TEST(Robustness, RedactionAlwaysHidesADigestResponse) {
    // Whatever precedes it in the header, a digest response never comes out. (Line breaks are
    // left out of the noise: one would end the header, or the header section.)
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
        std::string noise = random_message(rng);
        std::erase_if(noise, [](char c) { return c == '\r' || c == '\n'; });
        const std::string raw = "INVITE sip:b SIP/2.0\r\nAuthorization: Digest " + noise +
                                ", response=\"0f1e2d3c4b5a\"" +
                                (rng() % 2 ? "\r\n" : ", x=y\r\n\r\n");
        const std::string redacted = redact_sip_message(raw);
        ASSERT_EQ(redacted.find("0f1e2d3c4b5a"), std::string::npos) << testing::PrintToString(raw);
    }
}

TEST(Robustness, CaptureFromJsonSurvivesGarbage) {
    std::mt19937 rng(42);
    const std::string good = boost::json::serialize(capture_to_json(test::transfer_call()));
    for (int i = 0; i < 20000; ++i) {
        std::string doc = good;
        const int edits = std::uniform_int_distribution<int>(1, 8)(rng);
        for (int e = 0; e < edits && !doc.empty(); ++e) {
            const std::size_t at = rng() % doc.size();
            switch (rng() % 3) {
                case 0:
                    doc[at] = static_cast<char>(rng() % 256);
                    break;
                case 1:
                    doc.erase(at, rng() % 16);
                    break;
                default:
                    doc.insert(at, 1, "{}[]\":,0e-"[rng() % 10]);
                    break;
            }
        }
        const auto parsed = capture_from_json(doc);
        if (parsed) {
            // Whatever it accepted renders without trouble.
            (void)render_ladder(*parsed);
            (void)write_pcap(*parsed);
        }
    }
    for (int i = 0; i < 5000; ++i) {
        std::string doc(rng() % 64, ' ');
        for (char& c : doc) c = static_cast<char>(rng() % 256);
        EXPECT_FALSE(capture_from_json(doc));
    }
    EXPECT_FALSE(capture_from_json(std::string(100000, '[')));
}

TEST(Robustness, RenderingsSurviveGarbageMessages) {
    std::mt19937 rng(99);
    for (int i = 0; i < 2000; ++i) {
        CaptureSnapshot s;
        const int n = std::uniform_int_distribution<int>(1, 6)(rng);
        for (int k = 0; k < n; ++k) {
            CapturedMessage m;
            m.timestamp = test::call_start() +
                          std::chrono::milliseconds{static_cast<int>(rng() % 5000)} -
                          std::chrono::milliseconds{2500};
            m.direction = rng() % 2 ? Direction::kIn : Direction::kOut;
            m.transport = random_message(rng).substr(0, 5);
            m.local_ip = random_message(rng).substr(0, 40);
            m.remote_ip = rng() % 2 ? random_message(rng).substr(0, 60) : "2001:db8::1";
            m.local_port = static_cast<int>(rng());
            m.remote_port = static_cast<int>(rng() % 70000);
            m.raw = random_message(rng);
            s.messages.push_back(std::move(m));
        }
        s.truncated = rng() % 2;
        const std::string ladder = render_ladder(s);
        for (const char c : ladder) {
            ASSERT_TRUE(c == '\n' || (c >= 0x20 && c <= 0x7e)) << ladder;
        }
        (void)write_pcap(s);
        (void)encode_hep3(s.messages[0], 1, s.messages[0].raw);
        const auto back = capture_from_json(boost::json::serialize(capture_to_json(s)));
        // Ports out of range and addresses with brackets in them (no stack reports either) do
        // not round-trip; everything else must.
        const bool plausible = std::all_of(s.messages.begin(), s.messages.end(), [](const auto& m) {
            return m.local_port >= 0 && m.local_port <= 65535 && m.remote_port <= 65535 &&
                   m.local_ip.find_first_of("[]") == std::string::npos &&
                   m.remote_ip.find_first_of("[]") == std::string::npos;
        });
        if (plausible) {
            ASSERT_TRUE(back) << back.error().message;
        }
    }
}

}  // namespace
}  // namespace tl::sip
