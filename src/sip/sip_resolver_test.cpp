// RFC 3263 server location against a fake DNS server: a thread on a loopback UDP port that
// answers from canned records, built here with a small RFC 1035 encoder, and reached through
// the query's nameserver override. Nothing here needs a network.

#include "sip/sip_resolver.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tl::sip {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

// RFC 1035 §3.2.2 and RFC 3596 / 2782 / 3403 type codes.
constexpr std::uint16_t kA = 1;
constexpr std::uint16_t kCname = 5;
constexpr std::uint16_t kAaaa = 28;
constexpr std::uint16_t kSrv = 33;
constexpr std::uint16_t kNaptr = 35;

void put16(Bytes& out, unsigned v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& out, unsigned long v) {
    put16(out, static_cast<unsigned>(v >> 16));
    put16(out, static_cast<unsigned>(v & 0xffff));
}
// Uncompressed (RFC 1035 §3.1); "" or "." is the root.
void put_name(Bytes& out, const std::string& name) {
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        out.push_back(static_cast<std::uint8_t>(dot - start));
        out.insert(out.end(), name.begin() + static_cast<long>(start),
                   name.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    out.push_back(0);
}
void put_string(Bytes& out, const std::string& s) {
    out.push_back(static_cast<std::uint8_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

Bytes a_data(const std::string& ip) {
    Bytes out(4);
    if (inet_pton(AF_INET, ip.c_str(), out.data()) != 1) throw std::invalid_argument(ip);
    return out;
}
Bytes aaaa_data(const std::string& ip) {
    Bytes out(16);
    if (inet_pton(AF_INET6, ip.c_str(), out.data()) != 1) throw std::invalid_argument(ip);
    return out;
}
Bytes srv_data(unsigned priority, unsigned weight, unsigned port, const std::string& target) {
    Bytes out;
    put16(out, priority);
    put16(out, weight);
    put16(out, port);
    put_name(out, target);
    return out;
}
Bytes naptr_data(unsigned order,
                 unsigned preference,
                 const std::string& flags,
                 const std::string& services,
                 const std::string& replacement) {
    Bytes out;
    put16(out, order);
    put16(out, preference);
    put_string(out, flags);
    put_string(out, services);
    put_string(out, "");  // regexp: unused with the "s" flag
    put_name(out, replacement);
    return out;
}
Bytes name_data(const std::string& name) {
    Bytes out;
    put_name(out, name);
    return out;
}

struct Record {
    std::string name;
    std::uint16_t type;
    Bytes data;
};

void put_record(Bytes& out, const Record& r) {
    put_name(out, r.name);
    put16(out, r.type);
    put16(out, 1);  // IN
    put32(out, 300);
    put16(out, static_cast<unsigned>(r.data.size()));
    out.insert(out.end(), r.data.begin(), r.data.end());
}

// A DNS message with a question, as the resolver sends it (for the parser tests).
Bytes reply_message(const std::string& qname,
                    std::uint16_t qtype,
                    const std::vector<Record>& answers,
                    int rcode = 0) {
    Bytes out;
    put16(out, 0x1234);
    put16(out, 0x8400u | 0x0100u | 0x0080u | static_cast<unsigned>(rcode));
    put16(out, 1);
    put16(out, static_cast<unsigned>(answers.size()));
    put16(out, 0);
    put16(out, 0);
    put_name(out, qname);
    put16(out, qtype);
    put16(out, 1);
    for (const auto& r : answers) put_record(out, r);
    return out;
}

enum class Behaviour {
    kAnswer,       // the records (or NODATA when there are none)
    kRcode,        // the header only, with `rcode` (SERVFAIL, NXDOMAIN)
    kSilence,      // no reply at all
    kBadRecord,    // right id and question, then a record whose length runs past the end
    kTruncated,    // TC=1: the resolver retries over TCP, where nothing listens
    kRandomBytes,  // noise that matches no query
    kUndersized,   // shorter than a DNS header
};

struct Canned {
    Behaviour behaviour = Behaviour::kAnswer;
    std::vector<Record> answers{};
    int rcode = 0;
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string type_name(std::uint16_t type) {
    switch (type) {
        case kA:
            return "A";
        case kAaaa:
            return "AAAA";
        case kSrv:
            return "SRV";
        case kNaptr:
            return "NAPTR";
        default:
            return std::to_string(type);
    }
}

// A fake authoritative server on 127.0.0.1 (UDP, port 0). A name with no canned answer for the
// asked type gets NODATA when it has others, NXDOMAIN when it has none.
class FakeDns {
public:
    FakeDns() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            ::close(fd_);
            throw std::runtime_error("bind");
        }
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeDns() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    FakeDns(const FakeDns&) = delete;
    FakeDns& operator=(const FakeDns&) = delete;

    Nameserver nameserver() const { return {"127.0.0.1", port_}; }

    void add(const std::string& name, std::uint16_t type, const Bytes& data) {
        std::lock_guard lock(mutex_);
        auto& canned = zone_[{lower(name), type}];
        canned.answers.push_back({name, type, data});
    }
    void set(const std::string& name, std::uint16_t type, Canned canned) {
        std::lock_guard lock(mutex_);
        zone_[{lower(name), type}] = std::move(canned);
    }

    // "TYPE name" for every query received, in order.
    std::vector<std::string> queries() const {
        std::lock_guard lock(mutex_);
        return queries_;
    }

private:
    void serve() {
        Bytes buffer(65536);
        while (!stop_) {
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 20) <= 0) continue;
            sockaddr_in from{};
            socklen_t from_len = sizeof from;
            const auto n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &from_len);
            if (n < 12) continue;
            Bytes reply = answer(Bytes(buffer.begin(), buffer.begin() + n));
            if (!reply.empty()) {
                ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                         from_len);
            }
        }
    }

    Bytes answer(const Bytes& query) {
        // The question (RFC 1035 §4.1.2): uncompressed labels, then QTYPE and QCLASS.
        std::size_t pos = 12;
        std::string name;
        while (pos < query.size() && query[pos] != 0) {
            const std::size_t len = query[pos];
            if ((len & 0xc0) != 0 || pos + 1 + len > query.size()) return {};
            if (!name.empty()) name += '.';
            name.append(query.begin() + static_cast<long>(pos + 1),
                        query.begin() + static_cast<long>(pos + 1 + len));
            pos += 1 + len;
        }
        if (pos + 5 > query.size()) return {};
        const std::uint16_t type =
            static_cast<std::uint16_t>((query[pos + 1] << 8) | query[pos + 2]);
        const std::size_t question_end = pos + 5;
        name = lower(name);

        Canned canned;
        bool name_exists = false;
        {
            std::lock_guard lock(mutex_);
            queries_.push_back(type_name(type) + " " + name);
            auto it = zone_.find({name, type});
            if (it != zone_.end()) canned = it->second;
            for (const auto& [key, value] : zone_) {
                if (key.first == name) name_exists = true;
            }
        }
        if (!name_exists) canned = {Behaviour::kRcode, {}, 3};  // NXDOMAIN

        Bytes out;
        put16(out, static_cast<unsigned>((query[0] << 8) | query[1]));  // the query's id
        const unsigned rd = query[2] & 0x01u;
        unsigned flags = 0x8000u | 0x0400u | (rd << 8) | 0x0080u;  // QR AA RD RA
        switch (canned.behaviour) {
            case Behaviour::kSilence:
                return {};
            case Behaviour::kRandomBytes: {
                std::mt19937 rng(7);
                Bytes noise(40);
                for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
                noise[0] = static_cast<std::uint8_t>(query[0] ^ 0xff);  // never the query's id
                return noise;
            }
            case Behaviour::kUndersized:
                return {query[0], query[1], 0x84, 0x00};
            case Behaviour::kRcode:
                flags |= static_cast<unsigned>(canned.rcode);
                break;
            case Behaviour::kTruncated:
                flags |= 0x0200u;  // TC
                break;
            default:
                break;
        }
        put16(out, flags);
        put16(out, 1);
        const bool with_answers =
            canned.behaviour == Behaviour::kAnswer || canned.behaviour == Behaviour::kTruncated;
        std::size_t count = with_answers ? canned.answers.size() : 0;
        if (canned.behaviour == Behaviour::kBadRecord) count = 1;
        put16(out, static_cast<unsigned>(count));
        put16(out, 0);
        put16(out, 0);
        out.insert(out.end(), query.begin() + 12, query.begin() + static_cast<long>(question_end));
        if (with_answers) {
            for (const auto& r : canned.answers) put_record(out, r);
        } else if (canned.behaviour == Behaviour::kBadRecord) {
            put_name(out, name);
            put16(out, type);
            put16(out, 1);
            put32(out, 300);
            put16(out, 200);  // 200 bytes of data promised, 3 sent
            out.insert(out.end(), {1, 2, 3});
        }
        return out;
    }

    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::uint16_t>, Canned> zone_;
    std::vector<std::string> queries_;
};

SipResolveQuery query_for(const FakeDns& dns,
                          std::string host,
                          std::string transport = "udp",
                          std::optional<int> port = std::nullopt) {
    SipResolveQuery q;
    q.host = std::move(host);
    q.transport = std::move(transport);
    q.port = port;
    q.timeout = 3000ms;
    q.nameserver = dns.nameserver();
    return q;
}

bool has_step(const SipResolution& r, const std::string& line) {
    for (const auto& s : r.steps) {
        if (s == line) return true;
    }
    return false;
}

std::string steps_of(const SipResolution& r) {
    std::string out;
    for (const auto& s : r.steps) out += s + "\n";
    return out;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------

TEST(SipResolver, IpLiteralsAreUsedAsIsWithoutDns) {
    FakeDns dns;
    struct Case {
        std::string host;
        std::string transport;
        std::optional<int> port;
        SipServerAddress expected;
    };
    const std::vector<Case> cases = {
        {"192.0.2.10", "udp", std::nullopt, {"192.0.2.10", 5060, "udp", "literal"}},
        {"192.0.2.10", "tls", std::nullopt, {"192.0.2.10", 5061, "tls", "literal"}},
        {"192.0.2.10", "TCP", 5080, {"192.0.2.10", 5080, "tcp", "literal"}},
        {"[2001:db8::1]", "udp", std::nullopt, {"2001:db8::1", 5060, "udp", "literal"}},
        {"[2001:db8::1]", "tls", 5071, {"2001:db8::1", 5071, "tls", "literal"}},
        {"2001:db8::1", "tcp", std::nullopt, {"2001:db8::1", 5060, "tcp", "literal"}},
    };
    for (const auto& c : cases) {
        auto r = resolve_sip_server(query_for(dns, c.host, c.transport, c.port));
        ASSERT_TRUE(r) << c.host << ": " << r.error().message;
        ASSERT_EQ(r->addresses.size(), 1u) << c.host;
        EXPECT_EQ(r->addresses[0], c.expected) << c.host;
        EXPECT_FALSE(r->steps.empty());
    }
    EXPECT_TRUE(dns.queries().empty());
}

TEST(SipResolver, LocalhostWithAnExplicitPortComesFromTheHostsFile) {
    SipResolveQuery q;
    q.host = "localhost";
    q.port = 5070;
    q.transport = "tcp";
    q.timeout = 2000ms;
    auto r = resolve_sip_server(q);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_FALSE(r->addresses.empty());
    bool loopback = false;
    for (const auto& a : r->addresses) {
        EXPECT_EQ(a.port, 5070);
        EXPECT_EQ(a.transport, "tcp");
        EXPECT_TRUE(a.from == "a" || a.from == "aaaa") << a.from;
        if (a.ip == "127.0.0.1" || a.ip == "::1") loopback = true;
    }
    EXPECT_TRUE(loopback) << steps_of(*r);
}

TEST(SipResolver, AnInvalidNameIsAnErrorNamingTheHost) {
    // RFC 6761 §6.4: ".invalid" never resolves. Without a network a resolver might time out
    // instead of saying NXDOMAIN; either way it is an error that names the host.
    SipResolveQuery q;
    q.host = "pbx.doesnotexist.invalid";
    q.timeout = 2000ms;
    auto r = resolve_sip_server(q);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == Errc::kNotFound || r.error().code == Errc::kUnavailable);
    EXPECT_TRUE(contains(r.error().message, "pbx.doesnotexist.invalid")) << r.error().message;
}

TEST(SipResolver, MalformedQueriesAreRejected) {
    FakeDns dns;
    struct Case {
        std::string host;
        std::string transport;
        std::optional<int> port;
        std::string field;
    };
    const std::vector<Case> cases = {
        {"example.com", "sctp", std::nullopt, "transport"},
        {"example.com", "udp", 0, "port"},
        {"example.com", "udp", 65536, "port"},
        {"", "udp", std::nullopt, "host"},
        {"bad host.example.com", "udp", std::nullopt, "host"},
        {"a..b", "udp", std::nullopt, "host"},
        {std::string(64, 'a') + ".com", "udp", std::nullopt, "host"},
        {"[192.0.2.1]", "udp", std::nullopt, "host"},
    };
    for (const auto& c : cases) {
        auto r = resolve_sip_server(query_for(dns, c.host, c.transport, c.port));
        ASSERT_FALSE(r) << c.host;
        EXPECT_EQ(r.error().code, Errc::kInvalidRequest) << c.host;
        EXPECT_EQ(r.error().field, c.field) << c.host << ": " << r.error().message;
    }
    EXPECT_TRUE(dns.queries().empty());
}

TEST(SipResolver, NaptrThenSrvThenAddressesInOrder) {
    FakeDns dns;
    dns.add("example.com", kNaptr, naptr_data(20, 10, "s", "SIP+D2U", "_sip._udp.example.com"));
    dns.add("example.com", kNaptr, naptr_data(10, 10, "S", "SIPS+D2T", "_sips._tcp.example.com"));
    dns.add("example.com", kNaptr,
            naptr_data(10, 20, "s", "SIP+D2U", "_sip._udp.primary.example.com"));
    dns.add("_sip._udp.primary.example.com", kSrv, srv_data(10, 60, 5070, "sip1.example.com"));
    dns.add("_sip._udp.primary.example.com", kSrv, srv_data(10, 20, 5071, "sip2.example.com"));
    dns.add("_sip._udp.primary.example.com", kSrv, srv_data(5, 0, 5072, "sip0.example.com"));
    dns.add("_sips._tcp.example.com", kSrv, srv_data(0, 0, 5061, "tls.example.com"));
    dns.add("sip0.example.com", kA, a_data("192.0.2.30"));
    dns.add("sip1.example.com", kA, a_data("192.0.2.10"));
    dns.add("sip1.example.com", kAaaa, aaaa_data("2001:db8::10"));
    dns.add("sip2.example.com", kA, a_data("192.0.2.20"));
    dns.add("tls.example.com", kA, a_data("192.0.2.40"));

    auto r = resolve_sip_server(query_for(dns, "example.com"));
    ASSERT_TRUE(r) << r.error().message;
    const std::vector<SipServerAddress> expected = {
        {"192.0.2.30", 5072, "udp", "naptr"},
        {"192.0.2.10", 5070, "udp", "naptr"},
        {"2001:db8::10", 5070, "udp", "naptr"},
        {"192.0.2.20", 5071, "udp", "naptr"},
    };
    EXPECT_EQ(r->addresses, expected) << steps_of(*r);
    EXPECT_TRUE(has_step(
        *r, "NAPTR example.com: 10 20 \"s\" \"SIP+D2U\" \"\" _sip._udp.primary.example.com"))
        << steps_of(*r);
    EXPECT_TRUE(has_step(*r, "SRV _sip._udp.primary.example.com: 5 0 5072 sip0.example.com"))
        << steps_of(*r);
    EXPECT_TRUE(has_step(*r, "A sip1.example.com: 192.0.2.10")) << steps_of(*r);
    EXPECT_TRUE(has_step(*r, "AAAA sip0.example.com: none")) << steps_of(*r);
    // The order-20 record was not needed, and neither the plain SRV nor the host's A records.
    for (const auto& q : dns.queries()) {
        EXPECT_NE(q, "SRV _sip._udp.example.com");
        EXPECT_NE(q, "A example.com");
    }
    EXPECT_EQ(dns.queries().front(), "NAPTR example.com");

    auto tls = resolve_sip_server(query_for(dns, "example.com", "tls"));
    ASSERT_TRUE(tls) << tls.error().message;
    const std::vector<SipServerAddress> tls_expected = {{"192.0.2.40", 5061, "tls", "naptr"}};
    EXPECT_EQ(tls->addresses, tls_expected) << steps_of(*tls);

    // No SIP+D2T record: straight SRV, then A with the default port.
    auto tcp = resolve_sip_server(query_for(dns, "example.com", "tcp"));
    ASSERT_FALSE(tcp) << steps_of(*tcp);
    EXPECT_EQ(tcp.error().code, Errc::kNotFound);
    EXPECT_TRUE(contains(tcp.error().message, "example.com does not resolve"))
        << tcp.error().message;
}

TEST(SipResolver, ANaptrWhoseSrvIsMissingFallsToTheNextOne) {
    FakeDns dns;
    dns.add("example.com", kNaptr,
            naptr_data(10, 10, "s", "SIP+D2T", "_sip._tcp.gone.example.com"));
    dns.add("example.com", kNaptr, naptr_data(10, 20, "s", "SIP+D2T", "_sip._tcp.example.com"));
    dns.add("_sip._tcp.example.com", kSrv, srv_data(10, 10, 5090, "sip.example.com"));
    dns.add("sip.example.com", kA, a_data("192.0.2.90"));
    auto r = resolve_sip_server(query_for(dns, "example.com", "tcp"));
    ASSERT_TRUE(r) << r.error().message;
    const std::vector<SipServerAddress> expected = {{"192.0.2.90", 5090, "tcp", "naptr"}};
    EXPECT_EQ(r->addresses, expected) << steps_of(*r);
    EXPECT_TRUE(has_step(*r, "SRV _sip._tcp.gone.example.com: NXDOMAIN")) << steps_of(*r);
}

TEST(SipResolver, SrvRecordsGoByPriorityThenWeight) {
    FakeDns dns;
    dns.add("example.net", kA, a_data("198.51.100.1"));  // the name exists: NAPTR is NODATA
    dns.add("_sip._udp.example.net", kSrv, srv_data(20, 0, 5060, "c.example.net"));
    dns.add("_sip._udp.example.net", kSrv, srv_data(10, 10, 5060, "b.example.net"));
    dns.add("_sip._udp.example.net", kSrv, srv_data(10, 90, 5062, "a.example.net"));
    dns.add("a.example.net", kA, a_data("198.51.100.10"));
    dns.add("b.example.net", kAaaa, aaaa_data("2001:db8::b"));
    dns.add("c.example.net", kA, a_data("198.51.100.30"));
    auto r = resolve_sip_server(query_for(dns, "example.net"));
    ASSERT_TRUE(r) << r.error().message;
    const std::vector<SipServerAddress> expected = {
        {"198.51.100.10", 5062, "udp", "srv"},
        {"2001:db8::b", 5060, "udp", "srv"},
        {"198.51.100.30", 5060, "udp", "srv"},
    };
    EXPECT_EQ(r->addresses, expected) << steps_of(*r);
    ASSERT_GE(r->steps.size(), 2u);
    EXPECT_EQ(r->steps[0], "NAPTR example.net: none");
    EXPECT_EQ(r->steps[1], "SRV _sip._udp.example.net: 10 90 5062 a.example.net");
}

TEST(SipResolver, WithoutNaptrOrSrvTheHostsAddressesGetTheDefaultPort) {
    FakeDns dns;
    dns.add("example.org", kA, a_data("203.0.113.5"));
    dns.add("example.org", kAaaa, aaaa_data("2001:db8::5"));
    for (const auto& [transport, port] :
         std::vector<std::pair<std::string, int>>{{"udp", 5060}, {"tcp", 5060}, {"tls", 5061}}) {
        auto r = resolve_sip_server(query_for(dns, "example.org", transport));
        ASSERT_TRUE(r) << r.error().message;
        const std::vector<SipServerAddress> expected = {
            {"203.0.113.5", port, transport, "a"},
            {"2001:db8::5", port, transport, "aaaa"},
        };
        EXPECT_EQ(r->addresses, expected) << steps_of(*r);
        EXPECT_EQ(r->steps.front(), "NAPTR example.org: none");
    }
    auto srv = resolve_sip_server(query_for(dns, "example.org", "tls"));
    ASSERT_TRUE(srv);
    EXPECT_TRUE(has_step(*srv, "SRV _sips._tcp.example.org: NXDOMAIN")) << steps_of(*srv);
}

TEST(SipResolver, AnExplicitPortAsksForAddressRecordsOnly) {
    FakeDns dns;
    dns.add("example.org", kNaptr, naptr_data(10, 10, "s", "SIP+D2U", "_sip._udp.example.org"));
    dns.add("example.org", kA, a_data("203.0.113.5"));
    auto r = resolve_sip_server(query_for(dns, "example.org", "udp", 5080));
    ASSERT_TRUE(r) << r.error().message;
    const std::vector<SipServerAddress> expected = {{"203.0.113.5", 5080, "udp", "a"}};
    EXPECT_EQ(r->addresses, expected);
    const std::vector<std::string> asked = {"A example.org", "AAAA example.org"};
    EXPECT_EQ(dns.queries(), asked);
}

TEST(SipResolver, ANameThatDoesNotExistIsNxdomain) {
    FakeDns dns;
    auto r = resolve_sip_server(query_for(dns, "pbx.nowhere.test"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNotFound);
    EXPECT_EQ(r.error().message, "pbx.nowhere.test does not resolve (NXDOMAIN)");
    // RFC 8020: nothing exists below it, so no SRV or A query follows the NAPTR's NXDOMAIN.
    const std::vector<std::string> asked = {"NAPTR pbx.nowhere.test"};
    EXPECT_EQ(dns.queries(), asked);

    auto with_port = resolve_sip_server(query_for(dns, "pbx.nowhere.test", "tcp", 5060));
    ASSERT_FALSE(with_port);
    EXPECT_EQ(with_port.error().message, "pbx.nowhere.test does not resolve (NXDOMAIN)");
}

TEST(SipResolver, ANameWithNoUsableRecordIsNotFound) {
    FakeDns dns;
    dns.add("mail.example.com", 15, Bytes{0, 10, 0});  // an MX only
    auto r = resolve_sip_server(query_for(dns, "mail.example.com"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNotFound);
    EXPECT_EQ(r.error().message,
              "mail.example.com does not resolve (no NAPTR, SRV, A or AAAA record)");
}

TEST(SipResolver, ASrvTargetOfDotMeansNotOffered) {
    FakeDns dns;
    dns.add("example.com", kA, a_data("192.0.2.1"));
    dns.add("_sips._tcp.example.com", kSrv, srv_data(0, 0, 0, "."));
    auto r = resolve_sip_server(query_for(dns, "example.com", "tls"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNotFound);
    EXPECT_TRUE(contains(r.error().message, "not offered")) << r.error().message;
}

TEST(SipResolver, ACnameBeforeTheAddressesIsFollowedByTheServer) {
    FakeDns dns;
    dns.add("alias.example.com", kCname, name_data("real.example.com"));
    dns.set("alias.example.com", kA,
            {Behaviour::kAnswer,
             {{"alias.example.com", kCname, name_data("real.example.com")},
              {"real.example.com", kA, a_data("192.0.2.77")}}});
    auto r = resolve_sip_server(query_for(dns, "alias.example.com", "udp", 5060));
    ASSERT_TRUE(r) << r.error().message;
    const std::vector<SipServerAddress> expected = {{"192.0.2.77", 5060, "udp", "a"}};
    EXPECT_EQ(r->addresses, expected);
}

TEST(SipResolver, SilenceIsATimeoutWithinTheDeadline) {
    FakeDns dns;
    dns.set("slow.example.com", kNaptr, {Behaviour::kSilence});
    auto q = query_for(dns, "slow.example.com");
    q.timeout = 1000ms;
    const auto start = std::chrono::steady_clock::now();
    auto r = resolve_sip_server(q);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kUnavailable);
    EXPECT_TRUE(contains(r.error().message, "slow.example.com")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "timed out after")) << r.error().message;
    EXPECT_LT(elapsed, 3s);
}

TEST(SipResolver, AServerFailureIsUnavailable) {
    FakeDns dns;
    dns.set("broken.example.com", kNaptr, {Behaviour::kRcode, {}, 2});  // SERVFAIL
    auto r = resolve_sip_server(query_for(dns, "broken.example.com"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kUnavailable);
    EXPECT_TRUE(contains(r.error().message, "broken.example.com")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "SERVFAIL")) << r.error().message;
}

TEST(SipResolver, NoServerListeningIsUnavailable) {
    // A port with nothing on it: bound, noted, closed.
    int port = 0;
    {
        FakeDns gone;
        port = gone.nameserver().port;
    }
    SipResolveQuery q;
    q.host = "example.com";
    q.timeout = 1000ms;
    q.nameserver = Nameserver{"127.0.0.1", port};
    auto r = resolve_sip_server(q);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kUnavailable);
    EXPECT_TRUE(contains(r.error().message, "example.com")) << r.error().message;
}

TEST(SipResolver, BrokenRepliesAreErrorsNotCrashes) {
    FakeDns dns;
    dns.set("bad.example.com", kNaptr, {Behaviour::kBadRecord});
    dns.set("tc.example.com", kNaptr,
            {Behaviour::kTruncated,
             {{"tc.example.com", kNaptr, naptr_data(1, 1, "s", "SIP+D2U", "x.example.com")}}});
    dns.set("tiny.example.com", kNaptr, {Behaviour::kUndersized});
    dns.set("noise.example.com", kNaptr, {Behaviour::kRandomBytes});
    dns.set("badsrv.example.com", kNaptr, {Behaviour::kAnswer, {}});
    dns.set("_sip._udp.badsrv.example.com", kSrv,
            {Behaviour::kAnswer, {{"_sip._udp.badsrv.example.com", kSrv, Bytes{0, 1, 0}}}});
    dns.set("bada.example.com", kA,
            {Behaviour::kAnswer, {{"bada.example.com", kA, Bytes{1, 2, 3, 4, 5}}}});
    for (const std::string host : {"bad.example.com", "tc.example.com", "tiny.example.com",
                                   "noise.example.com", "badsrv.example.com"}) {
        auto q = query_for(dns, host);
        q.timeout = 1000ms;
        auto r = resolve_sip_server(q);
        ASSERT_FALSE(r) << host << "\n" << steps_of(*r);
        EXPECT_EQ(r.error().code, Errc::kUnavailable) << host;
        EXPECT_TRUE(contains(r.error().message, host)) << r.error().message;
    }
    auto bad = resolve_sip_server(query_for(dns, "bad.example.com"));
    ASSERT_FALSE(bad);
    EXPECT_TRUE(contains(bad.error().message, "malformed DNS reply to NAPTR bad.example.com"))
        << bad.error().message;
    auto bada = resolve_sip_server(query_for(dns, "bada.example.com", "udp", 5060));
    ASSERT_FALSE(bada);
    EXPECT_TRUE(contains(bada.error().message, "A record of 5 bytes")) << bada.error().message;
}

// ---------------------------------------------------------------------------------------------
// The record parsers, straight on bytes.

TEST(SipResolverParsers, ReadEveryRecordTypeAndSkipOthers) {
    const Bytes naptr = reply_message(
        "example.com", kNaptr,
        {{"example.com", kNaptr, naptr_data(10, 20, "s", "SIP+D2U", "_sip._udp.example.com")},
         {"example.com", kCname, name_data("x.example.com")}});
    auto n = detail::parse_naptr_answers(naptr);
    ASSERT_TRUE(n) << n.error().message;
    ASSERT_EQ(n->size(), 1u);
    EXPECT_EQ((*n)[0].order, 10);
    EXPECT_EQ((*n)[0].preference, 20);
    EXPECT_EQ((*n)[0].flags, "s");
    EXPECT_EQ((*n)[0].services, "SIP+D2U");
    EXPECT_EQ((*n)[0].regexp, "");
    EXPECT_EQ((*n)[0].replacement, "_sip._udp.example.com");

    const Bytes srv =
        reply_message("_sip._tcp.example.com", kSrv,
                      {{"_sip._tcp.example.com", kSrv, srv_data(1, 2, 5060, "sip.example.com")}});
    auto s = detail::parse_srv_answers(srv);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->size(), 1u);
    EXPECT_EQ((*s)[0].priority, 1);
    EXPECT_EQ((*s)[0].weight, 2);
    EXPECT_EQ((*s)[0].port, 5060);
    EXPECT_EQ((*s)[0].target, "sip.example.com");

    const Bytes aaaa =
        reply_message("h.example.com", kAaaa, {{"h.example.com", kAaaa, aaaa_data("2001:db8::2")}});
    auto six = detail::parse_address_answers(aaaa, detail::AddressRecord::kAaaa);
    ASSERT_TRUE(six);
    EXPECT_EQ(*six, std::vector<std::string>{"2001:db8::2"});
    auto four = detail::parse_address_answers(aaaa, detail::AddressRecord::kA);
    ASSERT_TRUE(four);
    EXPECT_TRUE(four->empty());
}

TEST(SipResolverParsers, FieldsThatOverrunTheirRecordAreErrors) {
    // NAPTR whose SERVICES string claims more bytes than the record has.
    Bytes naptr;
    put16(naptr, 10);
    put16(naptr, 10);
    put_string(naptr, "s");
    naptr.push_back(200);
    naptr.insert(naptr.end(), {'S', 'I', 'P'});
    const std::vector<Bytes> naptr_data_cases = {Bytes{0, 1}, naptr, Bytes{0, 1, 0, 1, 0, 0, 0}};
    for (const auto& data : naptr_data_cases) {
        EXPECT_FALSE(
            detail::parse_naptr_answers(reply_message("e.com", kNaptr, {{"e.com", kNaptr, data}})));
    }
    // SRV with a target that is a pointer past the message, or no target at all.
    const std::vector<Bytes> srv_data_cases = {Bytes{0, 1, 0, 1, 0x13, 0xc4},
                                               Bytes{0, 1, 0, 1, 0x13, 0xc4, 0xc0, 0xff},
                                               Bytes{0, 1, 0, 1, 0x13, 0xc4, 5, 'a', 'b'}};
    for (const auto& data : srv_data_cases) {
        EXPECT_FALSE(
            detail::parse_srv_answers(reply_message("e.com", kSrv, {{"e.com", kSrv, data}})));
    }
    EXPECT_FALSE(detail::parse_address_answers(
        reply_message("e.com", kA, {{"e.com", kA, Bytes{1, 2, 3}}}), detail::AddressRecord::kA));
    EXPECT_FALSE(detail::parse_address_answers(Bytes{}, detail::AddressRecord::kA));
    EXPECT_FALSE(detail::parse_address_answers(Bytes(11, 0), detail::AddressRecord::kA));
    // A name pointer that points at itself.
    Bytes loop = reply_message("e.com", kA, {});
    loop[7] = 1;  // ANCOUNT 1
    loop.insert(loop.end(), {0xc0, static_cast<std::uint8_t>(loop.size())});
    EXPECT_FALSE(detail::parse_address_answers(loop, detail::AddressRecord::kA));
}

TEST(SipResolverParsers, RandomAndMutatedBytesNeverCrash) {
    // A deterministic fuzz pass; the real fuzzing belongs in fuzz/ (libFuzzer).
    std::mt19937 rng(20240611);
    const Bytes seed = reply_message(
        "example.com", kNaptr,
        {{"example.com", kNaptr, naptr_data(10, 20, "s", "SIP+D2U", "_sip._udp.example.com")},
         {"_sip._udp.example.com", kSrv, srv_data(1, 2, 5060, "sip.example.com")},
         {"sip.example.com", kA, a_data("192.0.2.1")},
         {"sip.example.com", kAaaa, aaaa_data("2001:db8::1")}});
    int parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes bytes;
        if (i % 4 == 0) {
            bytes.resize(rng() % 300);
            for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
        } else {
            bytes = seed;
            const int flips = 1 + static_cast<int>(rng() % 6);
            for (int f = 0; f < flips; ++f) {
                bytes[rng() % bytes.size()] = static_cast<std::uint8_t>(rng());
            }
            if (rng() % 3 == 0) bytes.resize(rng() % bytes.size());
        }
        parsed += detail::parse_naptr_answers(bytes) ? 1 : 0;
        parsed += detail::parse_srv_answers(bytes) ? 1 : 0;
        parsed += detail::parse_address_answers(bytes, detail::AddressRecord::kA) ? 1 : 0;
        parsed += detail::parse_address_answers(bytes, detail::AddressRecord::kAaaa) ? 1 : 0;
    }
    EXPECT_GT(parsed, 0);  // some mutations keep the message well-formed
}

}  // namespace
}  // namespace tl::sip
