#include "media/sdp.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

namespace tl::media {
namespace {

// Real-world shapes: linphone/baresip put opus first; Asterisk lists PCMA first.
constexpr std::string_view kBaresipOffer =
    "v=0\r\n"
    "o=- 1234 5678 IN IP4 192.168.1.20\r\n"
    "s=-\r\n"
    "c=IN IP4 192.168.1.20\r\n"
    "t=0 0\r\n"
    "m=audio 10000 RTP/AVP 96 0 8 101\r\n"
    "b=AS:64\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=rtcp:10001 IN IP4 192.168.1.20\r\n"
    "a=rtcp-fb:* nack\r\n"
    "a=ssrc:1111 cname:abc@host\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

constexpr std::string_view kAsteriskOffer =
    "v=0\r\n"
    "o=- 1647290736 1647290736 IN IP4 203.0.113.5\r\n"
    "s=Asterisk\r\n"
    "c=IN IP4 203.0.113.5\r\n"
    "t=0 0\r\n"
    "m=audio 14238 RTP/AVP 8 0 3 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:3 GSM/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=maxptime:150\r\n"
    "a=sendrecv\r\n";

// LF line endings, static types without rtpmap, hold by a=sendonly at session level.
constexpr std::string_view kHoldSendOnlyOffer =
    "v=0\n"
    "o=carrier 99 100 IN IP4 198.51.100.7\n"
    "s=call\n"
    "c=IN IP4 198.51.100.7\n"
    "t=0 0\n"
    "a=sendonly\n"
    "m=audio 30000 RTP/AVP 0 8\n";

constexpr std::string_view kZeroAddressHoldOffer =
    "v=0\r\n"
    "o=- 1 2 IN IP4 10.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\n"
    "m=audio 5004 RTP/AVP 0\r\n";

constexpr std::string_view kG729OnlyOffer =
    "v=0\r\n"
    "o=- 1 1 IN IP4 10.0.0.2\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.2\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 18 101\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n";

// A video stream first, then audio with a media-level c= and dynamic-PT PCMU.
constexpr std::string_view kVideoAndAudioOffer =
    "v=0\r\n"
    "o=- 7 7 IN IP4 10.0.0.3\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.3\r\n"
    "t=0 0\r\n"
    "m=video 7000 RTP/AVP 97\r\n"
    "a=rtpmap:97 H264/90000\r\n"
    "m=audio 7002 RTP/AVP 110 8\r\n"
    "c=IN IP4 10.0.0.4\r\n"
    "a=rtpmap:110 pcmu/8000\r\n"
    "a=recvonly\r\n";

struct NegotiationCase {
    std::string_view name;
    std::string_view offer;
    Codec codec;
    int payload_type;
    std::optional<int> telephone_event_pt;
    std::string_view remote_address;
    int remote_port;
    int remote_rtcp_port;
    Direction answer_direction;
};

const NegotiationCase kNegotiationCases[] = {
    {"baresip", kBaresipOffer, Codec::kPcmu, 0, 101, "192.168.1.20", 10000, 10001,
     Direction::kSendRecv},
    {"asterisk", kAsteriskOffer, Codec::kPcma, 8, 101, "203.0.113.5", 14238, 14239,
     Direction::kSendRecv},
    {"hold_sendonly", kHoldSendOnlyOffer, Codec::kPcmu, 0, std::nullopt, "198.51.100.7", 30000,
     30001, Direction::kRecvOnly},
    {"hold_zero_address", kZeroAddressHoldOffer, Codec::kPcmu, 0, std::nullopt, "0.0.0.0", 5004,
     5005, Direction::kRecvOnly},
    {"video_then_audio", kVideoAndAudioOffer, Codec::kPcmu, 110, std::nullopt, "10.0.0.4", 7002,
     7003, Direction::kSendOnly},
};

TEST(SdpNegotiation, RealWorldOffers) {
    for (const auto& c : kNegotiationCases) {
        SCOPED_TRACE(c.name);
        auto offer = parse_sdp(c.offer);
        ASSERT_TRUE(offer.has_value()) << offer.error().message;
        auto audio = negotiate_answer(*offer);
        ASSERT_TRUE(audio.has_value()) << audio.error().message;
        EXPECT_EQ(audio->codec, c.codec);
        EXPECT_EQ(audio->payload_type, c.payload_type);
        EXPECT_EQ(audio->telephone_event_pt, c.telephone_event_pt);
        EXPECT_EQ(audio->remote_address, c.remote_address);
        EXPECT_EQ(audio->remote_port, c.remote_port);
        EXPECT_EQ(audio->remote_rtcp_port, c.remote_rtcp_port);
        EXPECT_EQ(audio->local_direction, c.answer_direction);
        EXPECT_EQ(audio->ptime_ms, 20);
    }
}

TEST(SdpNegotiation, DirectionMirrorsTheOffer) {
    const struct {
        std::string_view attribute;
        Direction answer;
    } cases[] = {
        {"a=sendrecv", Direction::kSendRecv}, {"a=sendonly", Direction::kRecvOnly},
        {"a=recvonly", Direction::kSendOnly}, {"a=inactive", Direction::kInactive},
        {"", Direction::kSendRecv},
    };
    for (const auto& c : cases) {
        std::string sdp =
            "v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n"
            "m=audio 4000 RTP/AVP 0\r\n";
        if (!c.attribute.empty()) sdp += std::string(c.attribute) + "\r\n";
        auto offer = parse_sdp(sdp);
        ASSERT_TRUE(offer);
        auto audio = negotiate_answer(*offer);
        ASSERT_TRUE(audio);
        EXPECT_EQ(audio->local_direction, c.answer) << c.attribute;
    }
}

TEST(SdpNegotiation, ZeroAddressWithRecvOnlyIsInactive) {
    auto offer = parse_sdp(std::string(kZeroAddressHoldOffer) + "a=recvonly\r\n");
    ASSERT_TRUE(offer);
    auto audio = negotiate_answer(*offer);
    ASSERT_TRUE(audio);
    EXPECT_EQ(audio->local_direction, Direction::kInactive);
}

TEST(SdpNegotiation, NoCommonCodecIsAnError) {
    auto offer = parse_sdp(kG729OnlyOffer);
    ASSERT_TRUE(offer);
    auto audio = negotiate_answer(*offer);
    ASSERT_FALSE(audio);
    EXPECT_EQ(audio.error().code, Errc::kInvalidRequest);
    EXPECT_NE(audio.error().message.find("no common codec"), std::string::npos);
}

TEST(SdpNegotiation, UnusableStreamsAreErrors) {
    const std::string_view cases[] = {
        // SRTP only
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/SAVP 0\r\n",
        // audio already disabled
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 0 RTP/AVP 0\r\n",
        // no audio at all
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=video 4000 RTP/AVP 96\r\n",
        // no connection address anywhere
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        // PCMU at the wrong clock rate
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n",
    };
    for (auto text : cases) {
        auto offer = parse_sdp(text);
        ASSERT_TRUE(offer) << text;
        EXPECT_FALSE(negotiate_answer(*offer)) << text;
    }
}

TEST(SdpParse, FieldsOfTheBaresipOffer) {
    auto sdp = parse_sdp(kBaresipOffer);
    ASSERT_TRUE(sdp);
    EXPECT_EQ(sdp->origin_username, "-");
    EXPECT_EQ(sdp->session_id, 1234u);
    EXPECT_EQ(sdp->session_version, 5678u);
    EXPECT_EQ(sdp->origin_address, "192.168.1.20");
    EXPECT_EQ(sdp->connection_address, "192.168.1.20");
    ASSERT_EQ(sdp->media.size(), 1u);
    const auto& m = sdp->media[0];
    EXPECT_EQ(m.media, "audio");
    EXPECT_EQ(m.port, 10000);
    EXPECT_EQ(m.protocol, "RTP/AVP");
    EXPECT_EQ(m.formats, (std::vector<int>{96, 0, 8, 101}));
    ASSERT_EQ(m.rtpmaps.size(), 4u);  // opus, then PCMU and PCMA filled in, then telephone-event
    EXPECT_EQ(m.rtpmaps[0].encoding, "opus");
    EXPECT_EQ(m.rtpmaps[0].clock_rate, 48000);
    EXPECT_EQ(m.rtpmaps[0].channels, 2);
    EXPECT_EQ(m.rtpmaps[0].fmtp, "stereo=1;sprop-stereo=1");
    EXPECT_EQ(m.rtpmaps[1].encoding, "PCMU");
    EXPECT_EQ(m.rtpmaps[2].encoding, "PCMA");
    EXPECT_EQ(m.rtpmaps[3].encoding, "telephone-event");
    EXPECT_EQ(m.rtpmaps[3].fmtp, "0-15");
    EXPECT_EQ(m.ptime, 20);
    EXPECT_EQ(m.rtcp_port, 10001);
    EXPECT_EQ(m.direction, Direction::kSendRecv);
}

TEST(SdpParse, MalformedInputIsAnErrorNeverAThrow) {
    const std::string_view cases[] = {
        "",
        "\r\n\r\n",
        "hello world",
        "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
        "o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n",
        "v=0\r\n",                                        // no o=
        "v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n",              // non-numeric session id
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n",  // c= without address
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=XX IP4 1.2.3.4\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio\r\n",  // m= without port/proto
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nthis is not sdp\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nX=upper-case type\r\n",
    };
    for (auto text : cases) {
        auto sdp = parse_sdp(text);
        ASSERT_FALSE(sdp) << "accepted: " << text;
        EXPECT_EQ(sdp.error().code, Errc::kInvalidRequest);
        EXPECT_FALSE(sdp.error().message.empty());
    }
}

TEST(SdpParse, UnknownAndBrokenAttributesAreIgnored) {
    constexpr std::string_view kText =
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4/127\r\nt=0 0\r\n"
        "z=2882844526 -1h\r\nk=prompt\r\nx=unknown-type\r\n"
        "m=audio 4000/2 RTP/AVP 0 101 abc 300\r\n"
        "a=rtpmap:101 telephone-event\r\n"  // no clock rate: ignored
        "a=rtpmap:999 PCMU/8000\r\n"        // PT out of range: ignored
        "a=rtpmap:0 PCMU/0\r\n"             // zero clock: ignored, static PCMU stands
        "a=ptime:abc\r\na=rtcp:notaport\r\na=fmtp:\r\na=weird\r\na=\r\n";
    auto sdp = parse_sdp(kText);
    ASSERT_TRUE(sdp) << sdp.error().message;
    EXPECT_EQ(sdp->connection_address, "1.2.3.4");
    ASSERT_EQ(sdp->media.size(), 1u);
    const auto& m = sdp->media[0];
    EXPECT_EQ(m.port, 4000);
    EXPECT_EQ(m.formats, (std::vector<int>{0, 101}));
    ASSERT_EQ(m.rtpmaps.size(), 1u);
    EXPECT_EQ(m.rtpmaps[0].encoding, "PCMU");
    EXPECT_FALSE(m.ptime);
    EXPECT_FALSE(m.rtcp_port);
    auto audio = negotiate_answer(*sdp);
    ASSERT_TRUE(audio);
    EXPECT_FALSE(audio->telephone_event_pt);
}

TEST(SdpParse, LimitsAreEnforced) {
    std::string many_media = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n";
    for (int i = 0; i < 17; ++i) many_media += "m=audio 4000 RTP/AVP 0\r\n";
    EXPECT_FALSE(parse_sdp(many_media));

    std::string many_formats = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP";
    for (int i = 0; i < 65; ++i) many_formats += " 0";
    EXPECT_FALSE(parse_sdp(many_formats + "\r\n"));

    std::string long_line = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=" + std::string(5000, 'x');
    EXPECT_FALSE(parse_sdp(long_line));

    std::string huge(70 * 1024, 'a');
    EXPECT_FALSE(parse_sdp(huge));
}

// Byte flips and truncations of every fixture: any result is fine, a crash or throw is not.
TEST(SdpParse, MutatedOffersNeverCrash) {
    std::mt19937 rng(1234);
    const std::string_view fixtures[] = {kBaresipOffer, kAsteriskOffer, kHoldSendOnlyOffer,
                                         kZeroAddressHoldOffer, kVideoAndAudioOffer};
    for (auto fixture : fixtures) {
        for (std::size_t n = 0; n <= fixture.size(); ++n) {
            auto sdp = parse_sdp(fixture.substr(0, n));
            if (sdp) (void)negotiate_answer(*sdp);
        }
        for (int i = 0; i < 2000; ++i) {
            std::string text(fixture);
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) text[rng() % text.size()] = static_cast<char>(rng());
            auto sdp = parse_sdp(text);
            if (!sdp) continue;
            if (auto audio = negotiate_answer(*sdp)) {
                (void)render_answer(*sdp, *audio, LocalMedia{"10.0.0.9", 20000, 1, 1});
            }
        }
    }
}

TEST(SdpRender, AnswerToBaresipIsValidAndMinimal) {
    auto offer = parse_sdp(kBaresipOffer);
    ASSERT_TRUE(offer);
    auto audio = negotiate_answer(*offer);
    ASSERT_TRUE(audio);
    const LocalMedia local{"203.0.113.10", 20000, 42, 1};
    const std::string answer = render_answer(*offer, *audio, local);
    EXPECT_EQ(answer,
              "v=0\r\n"
              "o=trunkline 42 1 IN IP4 203.0.113.10\r\n"
              "s=trunkline\r\n"
              "c=IN IP4 203.0.113.10\r\n"
              "t=0 0\r\n"
              "m=audio 20000 RTP/AVP 0 101\r\n"
              "a=rtpmap:0 PCMU/8000\r\n"
              "a=rtpmap:101 telephone-event/8000\r\n"
              "a=fmtp:101 0-16\r\n"
              "a=ptime:20\r\n"
              "a=sendrecv\r\n");
}

TEST(SdpRender, AnswerRejectsOtherStreamsInOrder) {
    auto offer = parse_sdp(kVideoAndAudioOffer);
    ASSERT_TRUE(offer);
    auto audio = negotiate_answer(*offer);
    ASSERT_TRUE(audio);
    auto answer = parse_sdp(render_answer(*offer, *audio, LocalMedia{"10.9.9.9", 20002, 5, 6}));
    ASSERT_TRUE(answer) << answer.error().message;
    ASSERT_EQ(answer->media.size(), 2u);
    EXPECT_EQ(answer->media[0].media, "video");
    EXPECT_EQ(answer->media[0].port, 0);
    EXPECT_EQ(answer->media[0].formats, (std::vector<int>{97}));
    EXPECT_EQ(answer->media[1].media, "audio");
    EXPECT_EQ(answer->media[1].port, 20002);
    EXPECT_EQ(answer->media[1].formats, (std::vector<int>{110}));  // the offer's dynamic PT
    EXPECT_EQ(answer->media[1].direction, Direction::kSendOnly);
    EXPECT_EQ(answer->session_version, 6u);
}

TEST(SdpRender, HoldAnswerIsRecvOnly) {
    auto offer = parse_sdp(kHoldSendOnlyOffer);
    ASSERT_TRUE(offer);
    auto audio = negotiate_answer(*offer);
    ASSERT_TRUE(audio);
    const auto answer = render_answer(*offer, *audio, LocalMedia{"10.0.0.1", 20000, 1, 2});
    EXPECT_NE(answer.find("a=recvonly\r\n"), std::string::npos);
    EXPECT_NE(answer.find("m=audio 20000 RTP/AVP 0\r\n"), std::string::npos);
}

TEST(SdpRender, OfferRoundTripsThroughOurOwnNegotiation) {
    const std::string text = render_offer(LocalMedia{"192.0.2.1", 30000, 7, 8});
    EXPECT_NE(text.find("m=audio 30000 RTP/AVP 0 8 101\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=fmtp:101 0-16\r\n"), std::string::npos);
    auto offer = parse_sdp(text);
    ASSERT_TRUE(offer) << offer.error().message;
    auto audio = negotiate_answer(*offer);
    ASSERT_TRUE(audio);
    EXPECT_EQ(audio->codec, Codec::kPcmu);
    EXPECT_EQ(audio->telephone_event_pt, 101);
    EXPECT_EQ(audio->remote_address, "192.0.2.1");
    EXPECT_EQ(audio->remote_port, 30000);

    auto on_hold =
        parse_sdp(render_offer(LocalMedia{"192.0.2.1", 30000, 7, 9}, Direction::kSendOnly));
    ASSERT_TRUE(on_hold);
    EXPECT_EQ(on_hold->media[0].direction, Direction::kSendOnly);
}

TEST(SdpRender, Ipv6AddressesUseIp6) {
    const auto text = render_offer(LocalMedia{"2001:db8::1", 30000, 1, 1});
    EXPECT_NE(text.find("c=IN IP6 2001:db8::1\r\n"), std::string::npos);
    auto offer = parse_sdp(text);
    ASSERT_TRUE(offer);
    EXPECT_EQ(offer->connection_address, "2001:db8::1");
}

}  // namespace
}  // namespace tl::media
