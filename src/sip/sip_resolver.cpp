#include "sip/sip_resolver.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace tl::sip {
namespace detail {
namespace {

// Bytes of a <character-string> or label from the wire, made safe to show: a hostile server
// must not be able to put control characters into a log line or an API response.
std::string printable(std::string_view raw) {
    std::string out(raw);
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return out;
}

Error malformed(std::string what) { return make_error(Errc::kUnavailable, std::move(what)); }

// A domain name inside a record's data, [pos, end): dn_expand follows compression pointers
// anywhere in the message (RFC 1035 §4.1.4) but the name itself must start and end inside the
// record.
std::optional<std::string> expand_name(std::span<const std::uint8_t> message,
                                       const std::uint8_t* pos,
                                       const std::uint8_t* end) {
    std::string name(NS_MAXDNAME, '\0');
    const int used = dn_expand(message.data(), message.data() + message.size(), pos, name.data(),
                               static_cast<int>(name.size()));
    if (used <= 0 || used > end - pos) return std::nullopt;
    name.resize(std::strlen(name.c_str()));
    if (name == ".") name.clear();  // the root (RFC 2782: "service not available here")
    return name;
}

// The answer records of class IN and type `type`, each handed to `take` as (rdata, rdlen).
// ns_initparse walks every section of the message once, so a count that runs past the end of
// the message fails here rather than in ns_parserr.
template <class Take>
Status for_each_answer(std::span<const std::uint8_t> message, ns_type type, Take&& take) {
    if (message.size() < NS_HFIXEDSZ || message.size() > NS_MAXMSG) {
        return malformed("reply of " + std::to_string(message.size()) + " bytes");
    }
    ns_msg handle{};
    if (ns_initparse(message.data(), static_cast<int>(message.size()), &handle) < 0) {
        return malformed("reply does not parse as a DNS message (RFC 1035 §4.1)");
    }
    const int count = ns_msg_count(handle, ns_s_an);
    for (int i = 0; i < count; ++i) {
        ns_rr rr{};
        if (ns_parserr(&handle, ns_s_an, i, &rr) < 0) {
            return malformed("answer record " + std::to_string(i + 1) + " does not parse");
        }
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != type) continue;
        const std::uint8_t* rdata = ns_rr_rdata(rr);
        const std::size_t rdlen = ns_rr_rdlen(rr);
        // ns_parserr checked this already; the check costs nothing and does not depend on it.
        if (rdata < message.data() || rdata + rdlen > message.data() + message.size()) {
            return malformed("answer record " + std::to_string(i + 1) + " runs past the reply");
        }
        if (Status taken = take(rdata, rdlen); !taken) return taken;
    }
    return {};
}

unsigned read_u16(const std::uint8_t* p) { return (unsigned{p[0]} << 8) | unsigned{p[1]}; }

}  // namespace

// RFC 3403 §4.1: ORDER, PREFERENCE, FLAGS, SERVICES, REGEXP (<character-string>s, RFC 1035
// §3.3), REPLACEMENT (a domain name).
Result<std::vector<NaptrRecord>> parse_naptr_answers(std::span<const std::uint8_t> message) {
    std::vector<NaptrRecord> records;
    Status parsed = for_each_answer(
        message, ns_t_naptr, [&](const std::uint8_t* rdata, std::size_t rdlen) -> Status {
            const std::uint8_t* end = rdata + rdlen;
            if (rdlen < 4) return malformed("NAPTR record shorter than 4 bytes");
            NaptrRecord r;
            r.order = static_cast<int>(read_u16(rdata));
            r.preference = static_cast<int>(read_u16(rdata + 2));
            const std::uint8_t* p = rdata + 4;
            for (std::string* field : {&r.flags, &r.services, &r.regexp}) {
                if (p >= end || *p > end - p - 1) {
                    return malformed("NAPTR character-string runs past its record");
                }
                *field = printable(std::string_view(reinterpret_cast<const char*>(p + 1), *p));
                p += 1 + *p;
            }
            if (p >= end) return malformed("NAPTR record without a replacement");
            auto replacement = expand_name(message, p, end);
            if (!replacement) return malformed("NAPTR replacement is not a domain name");
            r.replacement = std::move(*replacement);
            records.push_back(std::move(r));
            return {};
        });
    if (!parsed) return parsed.error();
    return records;
}

// RFC 2782: PRIORITY, WEIGHT, PORT, TARGET.
Result<std::vector<SrvRecord>> parse_srv_answers(std::span<const std::uint8_t> message) {
    std::vector<SrvRecord> records;
    Status parsed = for_each_answer(
        message, ns_t_srv, [&](const std::uint8_t* rdata, std::size_t rdlen) -> Status {
            if (rdlen < 7) return malformed("SRV record shorter than 7 bytes");
            SrvRecord r;
            r.priority = static_cast<int>(read_u16(rdata));
            r.weight = static_cast<int>(read_u16(rdata + 2));
            r.port = static_cast<int>(read_u16(rdata + 4));
            auto target = expand_name(message, rdata + 6, rdata + rdlen);
            if (!target) return malformed("SRV target is not a domain name");
            r.target = std::move(*target);
            records.push_back(std::move(r));
            return {};
        });
    if (!parsed) return parsed.error();
    return records;
}

// RFC 1035 §3.4.1 (A, 4 bytes) and RFC 3596 §2.2 (AAAA, 16 bytes).
Result<std::vector<std::string>> parse_address_answers(std::span<const std::uint8_t> message,
                                                       AddressRecord record) {
    std::vector<std::string> addresses;
    const bool ipv6 = record == AddressRecord::kAaaa;
    const ns_type type = ipv6 ? ns_t_aaaa : ns_t_a;
    const std::size_t size = ipv6 ? 16 : 4;
    auto take = [&](const std::uint8_t* rdata, std::size_t rdlen) -> Status {
        if (rdlen != size) {
            return malformed(std::string(ipv6 ? "AAAA" : "A") + " record of " +
                             std::to_string(rdlen) + " bytes");
        }
        std::string text(INET6_ADDRSTRLEN, '\0');
        if (!inet_ntop(ipv6 ? AF_INET6 : AF_INET, rdata, text.data(),
                       static_cast<socklen_t>(text.size()))) {
            return malformed("unprintable address record");
        }
        text.resize(std::strlen(text.c_str()));
        addresses.push_back(std::move(text));
        return {};
    };
    Status parsed = for_each_answer(message, type, take);
    if (!parsed) return parsed.error();
    return addresses;
}

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxSrvTargets = 8;  // bounds the A/AAAA queries one SRV set can cause
constexpr std::size_t kMaxNaptrFollowed = 4;

// RFC 3261 §19.1.2 / RFC 3263 §4.2: 5060, or 5061 for TLS.
int default_port(const std::string& transport) { return transport == "tls" ? 5061 : 5060; }

// RFC 3263 §4.1: the NAPTR service of each transport, and the SRV prefix when there is none.
std::string_view naptr_service(const std::string& transport) {
    if (transport == "tls") return "SIPS+D2T";
    if (transport == "tcp") return "SIP+D2T";
    return "SIP+D2U";
}
std::string_view srv_prefix(const std::string& transport) {
    if (transport == "tls") return "_sips._tcp.";
    if (transport == "tcp") return "_sip._tcp.";
    return "_sip._udp.";
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool ends_with_label(std::string_view host, std::string_view label) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (iequals(host, label)) return true;
    return host.size() > label.size() && host[host.size() - label.size() - 1] == '.' &&
           iequals(host.substr(host.size() - label.size()), label);
}

// RFC 1035 §2.3.4 sizes; letters, digits, '-' and '_' (SRV-style labels) only, so nothing odd
// reaches the resolver or a step line.
bool valid_host_name(std::string_view host) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty() || host.size() > 253) return false;
    std::size_t label = 0;
    for (const char c : host) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
        if (++label > 63) return false;
    }
    return label > 0;
}

// "192.0.2.1", "2001:db8::1" or "[2001:db8::1]" (RFC 3261 §25.1 IPv6reference): the address
// without brackets, or nothing when `host` is not an IP literal.
std::optional<std::string> ip_literal(std::string_view host) {
    in6_addr buffer{};
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        const std::string inner(host.substr(1, host.size() - 2));
        if (inet_pton(AF_INET6, inner.c_str(), &buffer) == 1) return inner;
        return std::nullopt;
    }
    const std::string text(host);
    if (inet_pton(AF_INET, text.c_str(), &buffer) == 1) return text;
    if (inet_pton(AF_INET6, text.c_str(), &buffer) == 1) return text;
    return std::nullopt;
}

// Names from the system's name service (/etc/hosts): getaddrinfo, whose order follows
// nsswitch.conf. Empty when it knows none.
std::vector<std::pair<std::string, std::string>> hosts_addresses(const std::string& host,
                                                                 int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;  // one entry per address, not one per socket type
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* raw = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &raw) != 0) return {};
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(raw, &freeaddrinfo);
    std::vector<std::pair<std::string, std::string>> out;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        std::string text(INET6_ADDRSTRLEN, '\0');
        const void* address = nullptr;
        if (ai->ai_family == AF_INET) {
            address = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
        } else if (ai->ai_family == AF_INET6) {
            address = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
        } else {
            continue;
        }
        if (!inet_ntop(ai->ai_family, address, text.data(), static_cast<socklen_t>(text.size()))) {
            continue;
        }
        text.resize(std::strlen(text.c_str()));
        const std::pair<std::string, std::string> entry{std::move(text),
                                                        ai->ai_family == AF_INET ? "a" : "aaaa"};
        if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(entry);
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// `struct` spelled out: resolv.h also declares a function named __res_state.
using ResolverState = struct __res_state;

struct ResStateCloser {
    void operator()(ResolverState* state) const {
        res_nclose(state);
        delete state;
    }
};

enum class Answer { kRecords, kNoData, kNxDomain };

struct DnsReply {
    Answer answer = Answer::kNoData;
    std::vector<std::uint8_t> message;
};

// glibc's send_dg() waits `retrans` seconds for the first nameserver and (retrans << i) /
// nscount for nameserver i, on every try.
int seconds_per_try(int retrans, int nscount) {
    int total = retrans;
    for (int i = 1; i < nscount; ++i) total += std::max(1, (retrans << i) / nscount);
    return total;
}

// One resolution: the resolver state, the deadline and what has been found so far.
class Resolution {
public:
    Resolution(const SipResolveQuery& query, std::string transport)
        : query_(query), transport_(std::move(transport)), deadline_(Clock::now() + query.timeout) {
        if (query.nameserver) {
            nameserver_ =
                fmt::format(" (nameserver {}:{})", query.nameserver->ip, query.nameserver->port);
        }
    }

    Status open() {
        // Zeroed before res_ninit, as resolv.h asks; never res_nclose'd unless initialised (a
        // zeroed state names descriptor 0 as its TCP socket).
        auto state = std::make_unique<ResolverState>();  // value-initialised: zeroed
        if (res_ninit(state.get()) != 0) {
            return make_error(Errc::kUnavailable, query_.host +
                                                      ": the system resolver cannot be initialised "
                                                      "(check /etc/resolv.conf)");
        }
        state_.reset(state.release());
        state_->options &= ~static_cast<unsigned long>(RES_USEVC);  // UDP first; TCP on TC=1
        if (query_.nameserver) {
            sockaddr_in ns{};
            ns.sin_family = AF_INET;
            ns.sin_port = htons(static_cast<std::uint16_t>(query_.nameserver->port));
            if (query_.nameserver->port < 1 || query_.nameserver->port > 65535 ||
                inet_pton(AF_INET, query_.nameserver->ip.c_str(), &ns.sin_addr) != 1) {
                return make_error(Errc::kInvalidRequest,
                                  "nameserver '" + query_.nameserver->ip + ":" +
                                      std::to_string(query_.nameserver->port) +
                                      "' is not an IPv4 address and port",
                                  "nameserver");
            }
            // glibc (>= 2.26) takes changes to nsaddr_list after res_ninit; an IPv6 server
            // that res_ninit put in slot 0 lives in _u._ext and is freed by res_nclose.
            state_->nsaddr_list[0] = ns;
            state_->nscount = 1;
        }
        return {};
    }

    // One query; NXDOMAIN and "no records" are answers, everything else an error naming the
    // host.
    Result<DnsReply> query(const std::string& name, ns_type type, std::string_view type_name) {
        const auto start = Clock::now();
        const auto remaining = std::chrono::duration_cast<milliseconds>(deadline_ - start);
        if (remaining.count() <= 0) return timed_out(name, type_name, 0);
        fit_timeouts(remaining);

        std::vector<std::uint8_t> message(NS_MAXMSG);
        errno = 0;
        const int n = res_nquery(state_.get(), name.c_str(), ns_c_in, type, message.data(),
                                 static_cast<int>(message.size()));
        const int saved_errno = errno;
        if (n >= 0) {
            message.resize(std::min<std::size_t>(static_cast<std::size_t>(n), message.size()));
            return DnsReply{Answer::kRecords, std::move(message)};
        }
        const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
        switch (state_->res_h_errno) {
            case HOST_NOT_FOUND:
                return DnsReply{Answer::kNxDomain, {}};
            case NO_DATA:
                return DnsReply{Answer::kNoData, {}};
            case TRY_AGAIN:
                if (saved_errno == ECONNREFUSED) {
                    return make_error(Errc::kUnavailable,
                                      fmt::format("{}: the DNS query {} {} was refused: no DNS "
                                                  "server listens (over UDP, or over TCP after "
                                                  "a truncated reply){}",
                                                  query_.host, type_name, name, nameserver_));
                }
                // SERVFAIL/REFUSED come back at once; silence uses up the whole wait.
                if (elapsed * 2 < last_wait_ms_) {
                    return make_error(Errc::kUnavailable,
                                      fmt::format("{}: the DNS server failed to answer {} {} "
                                                  "(SERVFAIL, REFUSED or an unusable reply){}",
                                                  query_.host, type_name, name, nameserver_));
                }
                return timed_out(name, type_name, elapsed);
            case NO_RECOVERY:
                return make_error(Errc::kUnavailable,
                                  fmt::format("{}: the DNS server rejected the query {} {} "
                                              "(FORMERR, NOTIMP or REFUSED){}",
                                              query_.host, type_name, name, nameserver_));
            default:
                return make_error(
                    Errc::kUnavailable,
                    fmt::format("{}: the DNS query {} {} failed: {}{}", query_.host, type_name,
                                name, std::strerror(saved_errno), nameserver_));
        }
    }

    Error malformed_reply(const std::string& name, std::string_view type_name, const Error& e) {
        return make_error(Errc::kUnavailable,
                          fmt::format("{}: malformed DNS reply to {} {}: {}{}", query_.host,
                                      type_name, name, e.message, nameserver_));
    }

    struct NameAddresses {
        std::vector<std::pair<std::string, std::string>> found;  // (ip, "a" | "aaaa")
        bool nxdomain = false;
    };

    // A and AAAA of `name`. An NXDOMAIN for A makes the AAAA query moot.
    Result<NameAddresses> addresses_of(const std::string& name) {
        NameAddresses out;
        for (const bool ipv6 : {false, true}) {
            const std::string_view type_name = ipv6 ? "AAAA" : "A";
            auto reply = query(name, ipv6 ? ns_t_aaaa : ns_t_a, type_name);
            if (!reply) return reply.error();
            if (reply->answer == Answer::kNxDomain) {
                step(fmt::format("{} {}: NXDOMAIN", type_name, name));
                out.nxdomain = true;
                return out;
            }
            std::vector<std::string> found;
            if (reply->answer == Answer::kRecords) {
                auto parsed = detail::parse_address_answers(
                    reply->message,
                    ipv6 ? detail::AddressRecord::kAaaa : detail::AddressRecord::kA);
                if (!parsed) return malformed_reply(name, type_name, parsed.error());
                found = std::move(*parsed);
            }
            step(fmt::format("{} {}: {}", type_name, name, found.empty() ? "none" : join(found)));
            for (auto& ip : found) out.found.emplace_back(std::move(ip), ipv6 ? "aaaa" : "a");
        }
        return out;
    }

    // RFC 2782 target selection for the SRV records of `name`: lowest priority first; within a
    // priority the heavier first (the deterministic order of the weighted draw's expectation,
    // so the doctor shows the same list every time).
    Status follow_srv(const std::string& name, const std::string& from) {
        auto reply = query(name, ns_t_srv, "SRV");
        if (!reply) return reply.error();
        if (reply->answer == Answer::kNxDomain) {
            step("SRV " + name + ": NXDOMAIN");
            return {};
        }
        std::vector<detail::SrvRecord> records;
        if (reply->answer == Answer::kRecords) {
            auto parsed = detail::parse_srv_answers(reply->message);
            if (!parsed) return malformed_reply(name, "SRV", parsed.error());
            records = std::move(*parsed);
        }
        if (records.empty()) {
            step("SRV " + name + ": none");
            return {};
        }
        std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
            return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
        });
        for (const auto& r : records) {
            step(fmt::format("SRV {}: {} {} {} {}", name, r.priority, r.weight, r.port,
                             r.target.empty() ? "." : r.target));
        }
        // RFC 2782: a lone target of "." means the service is decidedly not offered here.
        if (records.size() == 1 && records.front().target.empty()) {
            return make_error(Errc::kNotFound,
                              fmt::format("{}: SRV {} says SIP over {} is not offered there "
                                          "(target \".\", RFC 2782)",
                                          query_.host, name, transport_));
        }
        std::size_t followed = 0;
        const std::size_t before = result_.addresses.size();
        for (const auto& r : records) {
            if (r.target.empty() || r.port == 0) continue;
            if (++followed > kMaxSrvTargets) {
                step(fmt::format("SRV {}: only the first {} targets followed", name,
                                 kMaxSrvTargets));
                break;
            }
            auto addresses = addresses_of(r.target);
            if (!addresses) return addresses.error();
            for (auto& [ip, family] : addresses->found) add(std::move(ip), r.port, from);
        }
        if (result_.addresses.size() == before) step("SRV " + name + ": no target resolves");
        return {};
    }

    // RFC 3263 §4.1: the NAPTR records of the host for our transport's service, with the "s"
    // flag (an SRV lookup follows), by order then preference; the first whose SRV set gives
    // addresses wins. Notes when the host does not exist at all (host_is_nxdomain()).
    Status follow_naptr() {
        const std::string& host = query_.host;
        auto reply = query(host, ns_t_naptr, "NAPTR");
        if (!reply) return reply.error();
        if (reply->answer == Answer::kNxDomain) {
            step("NAPTR " + host + ": NXDOMAIN");
            known_nxdomain_ = true;
            return {};
        }
        std::vector<detail::NaptrRecord> records;
        if (reply->answer == Answer::kRecords) {
            auto parsed = detail::parse_naptr_answers(reply->message);
            if (!parsed) return malformed_reply(host, "NAPTR", parsed.error());
            records = std::move(*parsed);
        }
        if (records.empty()) {
            step("NAPTR " + host + ": none");
            return {};
        }
        std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
            return a.order != b.order ? a.order < b.order : a.preference < b.preference;
        });
        std::vector<const detail::NaptrRecord*> usable;
        for (const auto& r : records) {
            const bool ours = iequals(r.flags, "s") &&
                              iequals(r.services, naptr_service(transport_)) &&
                              !r.replacement.empty();
            step(fmt::format("NAPTR {}: {} {} \"{}\" \"{}\" \"{}\" {}{}", host, r.order,
                             r.preference, r.flags, r.services, r.regexp,
                             r.replacement.empty() ? "." : r.replacement,
                             ours ? "" : fmt::format(" (not {})", naptr_service(transport_))));
            if (ours) usable.push_back(&r);
        }
        if (usable.empty()) {
            step(fmt::format("NAPTR {}: no {} record; SRV next", host, naptr_service(transport_)));
            return {};
        }
        std::size_t followed = 0;
        for (const auto* r : usable) {
            if (++followed > kMaxNaptrFollowed) break;
            if (Status s = follow_srv(r->replacement, "naptr"); !s) return s;
            if (!result_.addresses.empty()) return {};
        }
        step("NAPTR " + host + ": no SRV target resolves; SRV next");
        return {};
    }

    // The host's own A/AAAA records with `port`; then, unless a nameserver was named, the
    // system's name service (/etc/hosts), for names that DNS does not know.
    Status host_addresses(int port, const std::string& why) {
        const std::string& host = query_.host;
        bool nxdomain = false;
        if (!known_nxdomain_) {
            auto addresses = addresses_of(host);
            if (!addresses) return addresses.error();
            for (auto& [ip, family] : addresses->found) add(std::move(ip), port, family);
            nxdomain = addresses->nxdomain;
        } else {
            nxdomain = true;
        }
        if (!result_.addresses.empty()) return {};
        if (!query_.nameserver && add_from_hosts(port)) return {};
        if (nxdomain) {
            return make_error(Errc::kNotFound, host + " does not resolve (NXDOMAIN)", "host");
        }
        return make_error(Errc::kNotFound, host + " does not resolve (no " + why + ")", "host");
    }

    // getaddrinfo: /etc/hosts and whatever else nsswitch.conf lists. True when it found any.
    bool add_from_hosts(int port) {
        auto hosts = hosts_addresses(query_.host, port);
        std::vector<std::string> ips;
        for (const auto& [ip, family] : hosts) ips.push_back(ip);
        step(fmt::format("hosts {}: {}", query_.host, ips.empty() ? "none" : join(ips)));
        for (auto& [ip, family] : hosts) add(std::move(ip), port, family);
        return !hosts.empty();
    }

    bool host_is_nxdomain() const { return known_nxdomain_; }

    void step(std::string line) { result_.steps.push_back(std::move(line)); }

    void add(std::string ip, int port, const std::string& from) {
        SipServerAddress address{std::move(ip), port, transport_, from};
        for (const auto& a : result_.addresses) {
            if (a.ip == address.ip && a.port == address.port) return;
        }
        result_.addresses.push_back(std::move(address));
    }

    bool found() const { return !result_.addresses.empty(); }
    SipResolution take() { return std::move(result_); }

private:
    // The resolver counts in whole seconds: as many seconds as are left (at least one), in two
    // tries when they fit (one lost datagram should not fail the lookup).
    void fit_timeouts(milliseconds remaining) {
        const int budget = static_cast<int>(std::clamp<long long>(remaining.count() / 1000, 1, 60));
        const int nscount = std::max(1, state_->nscount);
        int retrans = 1;
        int retry = 1;
        bool fitted = false;
        for (int tries : {2, 1}) {
            for (int r = std::min(budget, 30); r >= 1 && !fitted; --r) {
                if (tries * seconds_per_try(r, nscount) <= budget) {
                    retrans = r;
                    retry = tries;
                    fitted = true;
                }
            }
            if (fitted) break;
        }
        state_->retrans = retrans;
        state_->retry = retry;
        last_wait_ms_ = 1000LL * retry * seconds_per_try(retrans, nscount);
    }

    Error timed_out(const std::string& name, std::string_view type_name, long long elapsed) {
        return make_error(Errc::kUnavailable,
                          fmt::format("{}: the DNS query {} {} timed out after {} ms{}",
                                      query_.host, type_name, name, elapsed, nameserver_));
    }

    const SipResolveQuery& query_;
    std::string transport_;
    Clock::time_point deadline_;
    std::string nameserver_;
    std::unique_ptr<ResolverState, ResStateCloser> state_;
    long long last_wait_ms_ = 0;
    bool known_nxdomain_ = false;
    SipResolution result_;
};

}  // namespace

Result<SipResolution> resolve_sip_server(const SipResolveQuery& query) {
    std::string transport = query.transport;
    std::transform(transport.begin(), transport.end(), transport.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (transport != "udp" && transport != "tcp" && transport != "tls") {
        return make_error(Errc::kInvalidRequest,
                          "transport '" + query.transport + "' is not udp, tcp or tls",
                          "transport");
    }
    if (query.port && (*query.port < 1 || *query.port > 65535)) {
        return make_error(Errc::kInvalidRequest,
                          "port " + std::to_string(*query.port) + " is not between 1 and 65535",
                          "port");
    }
    const int port = query.port.value_or(default_port(transport));

    // RFC 3263 §4.2: an IP address needs no lookup.
    if (auto ip = ip_literal(query.host)) {
        SipResolution r;
        r.steps.push_back(query.host + ": an IP address, no DNS lookup");
        r.addresses.push_back({*ip, port, transport, "literal"});
        return r;
    }
    if (!valid_host_name(query.host)) {
        return make_error(Errc::kInvalidRequest,
                          "'" + query.host + "' is neither a host name nor an IP address", "host");
    }
    // RFC 6761 §6.4: "invalid" names never exist; resolvers answer NXDOMAIN at once.
    if (ends_with_label(query.host, "invalid")) {
        return make_error(Errc::kNotFound, query.host + " does not resolve (NXDOMAIN)", "host");
    }

    Resolution resolution(query, transport);
    // RFC 6761 §6.3: "localhost" names are the loopback addresses and are not sent to DNS.
    if (ends_with_label(query.host, "localhost")) {
        if (!resolution.add_from_hosts(port)) {
            return make_error(Errc::kNotFound, query.host + " does not resolve (not in /etc/hosts)",
                              "host");
        }
        return resolution.take();
    }

    if (Status opened = resolution.open(); !opened) return opened.error();

    if (query.port) {
        // RFC 3263 §4.2: a port in the URI means A/AAAA only.
        resolution.step(fmt::format("port {} given: A/AAAA only (RFC 3263 §4.2)", *query.port));
        if (Status s = resolution.host_addresses(port, "A or AAAA record"); !s) return s.error();
        return resolution.take();
    }

    if (Status s = resolution.follow_naptr(); !s) return s.error();
    if (resolution.found()) return resolution.take();
    // RFC 8020: nothing exists below a name that does not exist, so no SRV query (and no A
    // query: host_addresses() knows).
    if (!resolution.host_is_nxdomain()) {
        const std::string srv_name = std::string(srv_prefix(transport)) + query.host;
        if (Status s = resolution.follow_srv(srv_name, "srv"); !s) return s.error();
        if (resolution.found()) return resolution.take();
    }
    if (Status s = resolution.host_addresses(port, "NAPTR, SRV, A or AAAA record"); !s) {
        return s.error();
    }
    return resolution.take();
}

}  // namespace tl::sip
