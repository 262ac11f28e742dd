// Fuzzes the DNS reply parsers of RFC 3263 server location (sip/sip_resolver.hpp): the input is
// a reply as res_nquery hands it over, which whoever answers the query controls, and goes to
// parse_naptr_answers, parse_srv_answers and parse_address_answers (A and AAAA).
//
// Invariants: the parsers never crash or throw, and fail with a message; they return no more
// records than the header's ANCOUNT (RFC 1035 §4.1.1); 16-bit fields (order, preference,
// priority, weight, port) are 0-65535; NAPTR character-strings are at most 255 bytes
// (RFC 1035 §3.3) and printable ASCII; names are at most NS_MAXDNAME - 1 characters of
// printable ASCII without spaces (the escaped presentation form, RFC 1035 §5.1); an address is
// the text of an address of its family and reads back to itself.

#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sip/sip_resolver.hpp"

namespace {

namespace detail = tl::sip::detail;
using Bytes = std::span<const std::uint8_t>;

bool printable(std::string_view s) {
    for (const char c : s) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

bool valid_name(std::string_view name) {
    if (name.size() >= NS_MAXDNAME) return false;
    for (const char c : name) {
        if (c <= 0x20 || c > 0x7e) return false;
    }
    return true;
}

bool is_u16(int v) { return v >= 0 && v <= 65535; }

std::size_t answer_count(Bytes message) {
    return message.size() >= 8 ? std::size_t{message[6]} << 8 | message[7] : 0;
}

std::string describe(const detail::NaptrRecord& r) {
    return "NAPTR " + std::to_string(r.order) + " " + std::to_string(r.preference) + " \"" +
           r.flags + "\" \"" + r.services + "\" \"" + r.regexp + "\" " + r.replacement;
}

std::string describe(const detail::SrvRecord& r) {
    return "SRV " + std::to_string(r.priority) + " " + std::to_string(r.weight) + " " +
           std::to_string(r.port) + " " + r.target;
}

// The details below are built only when a check fails (TL_FUZZ_CHECK evaluates them then).
std::string with(std::string_view input, std::string_view record) {
    return std::string(record) + "\n  from " + std::string(input);
}

void check_naptr(Bytes message, std::string_view input) {
    const auto parsed = detail::parse_naptr_answers(message);
    if (!parsed) {
        TL_FUZZ_CHECK(!parsed.error().message.empty(), input);
        return;
    }
    TL_FUZZ_CHECK(parsed->size() <= answer_count(message), input);
    for (const auto& r : *parsed) {
        TL_FUZZ_CHECK(is_u16(r.order) && is_u16(r.preference), with(input, describe(r)));
        for (const std::string* text : {&r.flags, &r.services, &r.regexp}) {
            TL_FUZZ_CHECK(text->size() <= 255 && printable(*text), with(input, describe(r)));
        }
        TL_FUZZ_CHECK(valid_name(r.replacement), with(input, describe(r)));
    }
}

void check_srv(Bytes message, std::string_view input) {
    const auto parsed = detail::parse_srv_answers(message);
    if (!parsed) {
        TL_FUZZ_CHECK(!parsed.error().message.empty(), input);
        return;
    }
    TL_FUZZ_CHECK(parsed->size() <= answer_count(message), input);
    for (const auto& r : *parsed) {
        TL_FUZZ_CHECK(is_u16(r.priority) && is_u16(r.weight) && is_u16(r.port),
                      with(input, describe(r)));
        TL_FUZZ_CHECK(valid_name(r.target), with(input, describe(r)));
    }
}

void check_addresses(Bytes message, detail::AddressRecord type, std::string_view input) {
    const auto parsed = detail::parse_address_answers(message, type);
    if (!parsed) {
        TL_FUZZ_CHECK(!parsed.error().message.empty(), input);
        return;
    }
    TL_FUZZ_CHECK(parsed->size() <= answer_count(message), input);
    const int family = type == detail::AddressRecord::kAaaa ? AF_INET6 : AF_INET;
    for (const auto& text : *parsed) {
        std::array<unsigned char, 16> bytes{};
        TL_FUZZ_CHECK(inet_pton(family, text.c_str(), bytes.data()) == 1, with(input, text));
        std::array<char, INET6_ADDRSTRLEN> back{};
        TL_FUZZ_CHECK(inet_ntop(family, bytes.data(), back.data(), back.size()) != nullptr &&
                          text == back.data(),
                      with(input, text));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Bytes message(data, size);
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_naptr(message, input);
    check_srv(message, input);
    check_addresses(message, detail::AddressRecord::kA, input);
    check_addresses(message, detail::AddressRecord::kAaaa, input);
    return 0;
}
