#pragma once
// Where a SIP trunk's requests go: RFC 3263 §4 server location (NAPTR, then SRV, then A/AAAA),
// done step by step so the trunk doctor can show what was looked up and what came back.
//
// Lookups use the system resolver (/etc/resolv.conf) through res_nquery on a resolver state of
// the call's own, so calls on different threads never share state. The DNS reply is untrusted
// input: the record parsers in `detail` check every length and never throw.
//
// Thread-safety: resolve_sip_server() is safe to call concurrently. It blocks for up to about
// the query's timeout (the resolver counts in whole seconds).

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace tl::sip {

// A DNS server to ask instead of the ones in /etc/resolv.conf (tests: a fake server on loopback).
struct Nameserver {
    std::string ip;  // IPv4 only: that is all glibc's res_state takes in its address list
    int port = 53;
};

struct SipResolveQuery {
    std::string host;               // a domain name or an IP literal ("[2001:db8::1]" or bare)
    std::optional<int> port;        // explicit port: A/AAAA only (RFC 3263 §4.2)
    std::string transport = "udp";  // "udp" | "tcp" | "tls"
    // For the whole resolution (every NAPTR, SRV, A and AAAA query together).
    std::chrono::milliseconds timeout{5000};
    std::optional<Nameserver> nameserver;
};

struct SipServerAddress {
    std::string ip;
    int port = 0;
    std::string transport;  // the query's transport
    std::string from;       // "naptr" | "srv" | "a" | "aaaa" | "literal"

    bool operator==(const SipServerAddress&) const = default;
};

struct SipResolution {
    // Human-readable lines of what was looked up and what came back, in order, e.g.
    // "NAPTR example.com: none", "SRV _sip._udp.example.com: 10 60 5060 sip1.example.com".
    std::vector<std::string> steps;
    // The addresses to try, best first (RFC 3263 §4.4: in order, the next one on failure).
    std::vector<SipServerAddress> addresses;
};

// Errors: kInvalidRequest for a malformed host, port or transport; kNotFound when the host does
// not exist ("... does not resolve (NXDOMAIN)") or has no usable record; kUnavailable when the
// DNS cannot answer (timed out, refused, failed, or a malformed reply). Every message names the
// host.
Result<SipResolution> resolve_sip_server(const SipResolveQuery& query);

namespace detail {

// RFC 3403 §4.1.
struct NaptrRecord {
    int order = 0;
    int preference = 0;
    std::string flags;
    std::string services;
    std::string regexp;
    std::string replacement;
};

// RFC 2782.
struct SrvRecord {
    int priority = 0;
    int weight = 0;
    int port = 0;
    std::string target;
};

// The records of one type in the answer section of a DNS reply (`message`, as res_nquery
// returns it). Records of other types (a CNAME before the A records) are skipped. A reply that
// does not parse, or a record whose data is shorter than its type needs, is an error.
Result<std::vector<NaptrRecord>> parse_naptr_answers(std::span<const std::uint8_t> message);
Result<std::vector<SrvRecord>> parse_srv_answers(std::span<const std::uint8_t> message);
enum class AddressRecord { kA, kAaaa };

// A or AAAA records, as text ("192.0.2.1", "2001:db8::1").
Result<std::vector<std::string>> parse_address_answers(std::span<const std::uint8_t> message,
                                                       AddressRecord record);

}  // namespace detail
}  // namespace tl::sip
