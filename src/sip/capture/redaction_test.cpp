#include "sip/capture/redaction.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tl::sip {
namespace {

struct Case {
    std::string_view name;
    std::string_view raw;
    std::string_view redacted;
};

constexpr Case kCases[] = {
    {"quoted response",
     "REGISTER sip:example.com SIP/2.0\r\n"
     "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\", "
     "uri=\"sip:example.com\", response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5\r\n"
     "Content-Length: 0\r\n\r\n",
     "REGISTER sip:example.com SIP/2.0\r\n"
     "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\", "
     "uri=\"sip:example.com\", response=\"[redacted]\", algorithm=MD5\r\n"
     "Content-Length: 0\r\n\r\n"},
    {"unquoted response, last parameter",
     "INVITE sip:bob@b.example SIP/2.0\r\n"
     "Proxy-Authorization: Digest username=\"alice\",realm=\"b\",nonce=\"n\",uri=\"sip:bob@b\","
     "response=6629fae49393a05397450978507c4ef1\r\n\r\n",
     "INVITE sip:bob@b.example SIP/2.0\r\n"
     "Proxy-Authorization: Digest username=\"alice\",realm=\"b\",nonce=\"n\",uri=\"sip:bob@b\","
     "response=\"[redacted]\"\r\n\r\n"},
    {"mixed case names and spaces around '='",
     "INVITE sip:b SIP/2.0\r\n"
     "proxy-AUTHORIZATION : dIgEsT Username=\"a\" , RESPONSE = \"0123abcd\" , cnonce=\"c\"\r\n\r\n",
     "INVITE sip:b SIP/2.0\r\n"
     "proxy-AUTHORIZATION : dIgEsT Username=\"a\" , RESPONSE = \"[redacted]\" , cnonce=\"c\"\r\n"
     "\r\n"},
    {"folded header (RFC 3261 §7.3.1)",
     "REGISTER sip:r SIP/2.0\r\n"
     "Authorization: Digest username=\"alice\",\r\n"
     "   realm=\"r\", nonce=\"n\",\r\n"
     "\tresponse=\r\n"
     "  \"0123456789abcdef0123456789abcdef\", qop=auth\r\n"
     "Via: SIP/2.0/UDP h\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\n"
     "Authorization: Digest username=\"alice\",\r\n"
     "   realm=\"r\", nonce=\"n\",\r\n"
     "\tresponse=\r\n"
     "  \"[redacted]\", qop=auth\r\n"
     "Via: SIP/2.0/UDP h\r\n\r\n"},
    {"two headers",
     "INVITE sip:b SIP/2.0\r\n"
     "Authorization: Digest username=\"a\", response=\"11111111\"\r\n"
     "Subject: hi\r\n"
     "Proxy-Authorization: Digest username=\"p\", response=\"22222222\"\r\n\r\n",
     "INVITE sip:b SIP/2.0\r\n"
     "Authorization: Digest username=\"a\", response=\"[redacted]\"\r\n"
     "Subject: hi\r\n"
     "Proxy-Authorization: Digest username=\"p\", response=\"[redacted]\"\r\n\r\n"},
    {"escaped quote inside another parameter",
     "REGISTER sip:r SIP/2.0\r\n"
     "Authorization: Digest username=\"a\\\", response=\\\"x\", response=\"secret\"\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\n"
     "Authorization: Digest username=\"a\\\", response=\\\"x\", response=\"[redacted]\"\r\n\r\n"},
    {"basic credentials go whole",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==  \r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Basic [redacted]  \r\n\r\n"},
    {"bearer with parameters goes whole",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Bearer eyJ.abc, realm=\"x\"\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Bearer [redacted]\r\n\r\n"},
    {"a token without '=' makes the header malformed: all of it goes",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest username=\"a\", response secret\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest [redacted]\r\n\r\n"},
    {"an unterminated quoted string makes the header malformed",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest nonce=\"n\", response=\"abc, x=y\r\n"
     "X: y\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest [redacted]\r\nX: y\r\n\r\n"},
    {"a stray quote cannot hide the response",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest =\"x, response=\"0f1e2d3c\", y=z\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest [redacted]\r\n\r\n"},
    {"nor can a parameter inside an unquoted value",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest x=response=0f1e2d3c\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest [redacted]\r\n\r\n"},
    {"empty list elements and an unquoted uri are tolerated",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest uri=sip:r@h,\r\n response=\"0f1e\",,\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest uri=sip:r@h,\r\n"
     " response=\"[redacted]\",,\r\n\r\n"},
    {"a missing comma is malformed",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest uri=\"sip:r@h\" response=\"0f1e\"\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: Digest [redacted]\r\n\r\n"},
    {"a single word that is no scheme may be a bare token",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: c2VjcmV0\r\nProxy-Authorization: Digest\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: [redacted]\r\nProxy-Authorization: Digest\r\n\r\n"},
    {"something that is no scheme",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: \"Digest\" response=\"0f1e\"\r\n\r\n",
     "REGISTER sip:r SIP/2.0\r\nAuthorization: [redacted]\r\n\r\n"},
    {"LF-only line endings", "REGISTER sip:r SIP/2.0\nAuthorization: Digest response=\"abc\"\n\n",
     "REGISTER sip:r SIP/2.0\nAuthorization: Digest response=\"[redacted]\"\n\n"},
    {"a body that merely contains the word response=",
     "MESSAGE sip:b SIP/2.0\r\n"
     "Content-Type: text/plain\r\n\r\n"
     "the response=\"42\" to Authorization was wrong\r\n",
     "MESSAGE sip:b SIP/2.0\r\n"
     "Content-Type: text/plain\r\n\r\n"
     "the response=\"42\" to Authorization was wrong\r\n"},
    {"other headers with response= are untouched",
     "SIP/2.0 401 Unauthorized\r\n"
     "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", response=\"keep\"\r\n"
     "Authentication-Info: rspauth=\"abc\"\r\n\r\n",
     "SIP/2.0 401 Unauthorized\r\n"
     "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", response=\"keep\"\r\n"
     "Authentication-Info: rspauth=\"abc\"\r\n\r\n"},
    {"SDES keys in SDP (RFC 4568)",
     "INVITE sip:b SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n"
     "v=0\r\n"
     "m=audio 4000 RTP/SAVP 0\r\n"
     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
     "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"
     "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32;"
     "inline:QUJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0|2^20|2:32 KDR=1\r\n"
     "a=rtpmap:0 PCMU/8000\r\n",
     "INVITE sip:b SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n"
     "v=0\r\n"
     "m=audio 4000 RTP/SAVP 0\r\n"
     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^20|1:4\r\n"
     "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[redacted]|2^20|1:32;"
     "inline:[redacted]|2^20|2:32 KDR=1\r\n"
     "a=rtpmap:0 PCMU/8000\r\n"},
    {"SDES key without lifetime, no final line ending",
     "SIP/2.0 200 OK\r\n\r\nv=0\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:c2VjcmV0",
     "SIP/2.0 200 OK\r\n\r\nv=0\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:[redacted]"},
    {"nothing to redact", "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n",
     "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"},
    {"empty credentials", "R s SIP/2.0\r\nAuthorization:\r\nAuthorization: Basic\r\n\r\n",
     "R s SIP/2.0\r\nAuthorization:\r\nAuthorization: Basic\r\n\r\n"},
    {"empty", "", ""},
    {"keep-alive", "\r\n\r\n", "\r\n\r\n"},
};

TEST(Redaction, RedactsSecretsAndNothingElse) {
    for (const auto& c : kCases) {
        SCOPED_TRACE(std::string(c.name));
        EXPECT_EQ(redact_sip_message(c.raw), c.redacted);
    }
}

TEST(Redaction, IsIdempotent) {
    for (const auto& c : kCases) {
        SCOPED_TRACE(std::string(c.name));
        EXPECT_EQ(redact_sip_message(c.redacted), c.redacted);
    }
}

TEST(Redaction, KeepsBinaryBytes) {
    const std::string raw("MESSAGE sip:b SIP/2.0\r\n\r\n\0\xff\x80\r\n", 29);
    EXPECT_EQ(redact_sip_message(raw), raw);
}

}  // namespace
}  // namespace tl::sip
