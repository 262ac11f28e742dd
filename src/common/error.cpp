#include "common/error.hpp"

#include <array>

namespace tl {
namespace {

// SIP statuses: a request the caller cannot fix by retrying gets 4xx; our own failure 500/503.
// kRateLimited maps to 503 (+Retry-After): SIP has no 429 (RFC 3261 §21.5.4).
constexpr std::array kErrorTable = {
    ErrorInfo{Errc::kInvalidRequest, "invalid_request", 400, "Invalid request", 400},
    ErrorInfo{Errc::kMissingField, "missing_field", 400, "Missing required field", 400},
    ErrorInfo{Errc::kUnknownField, "unknown_field", 400, "Unknown field", 400},
    ErrorInfo{Errc::kInvalidJson, "invalid_json", 400, "Malformed JSON", 400},
    ErrorInfo{Errc::kInvalidPhoneNumber, "invalid_phone_number", 400, "Invalid phone number", 484},
    ErrorInfo{Errc::kUnsupportedProvider, "unsupported_provider", 400, "Unsupported provider", 400},
    ErrorInfo{Errc::kPayloadTooLarge, "payload_too_large", 413, "Payload too large", 513},
    ErrorInfo{Errc::kUnauthorized, "unauthorized", 401, "Unauthorized", 401},
    ErrorInfo{Errc::kApiKeyRevoked, "api_key_revoked", 401, "API key revoked", 401},
    ErrorInfo{Errc::kForbidden, "forbidden", 403, "Forbidden", 403},
    ErrorInfo{Errc::kNotFound, "not_found", 404, "Not found", 404},
    ErrorInfo{Errc::kMethodNotAllowed, "method_not_allowed", 405, "Method not allowed", 405},
    ErrorInfo{Errc::kConflict, "conflict", 409, "Conflict", 409},
    ErrorInfo{Errc::kAddressInUse, "address_in_use", 409, "Address in use", 409},
    ErrorInfo{Errc::kRateLimited, "rate_limit_exceeded", 429, "Too many requests", 503},
    ErrorInfo{Errc::kCallNotActive, "call_not_active", 400, "Call not active", 481},
    ErrorInfo{Errc::kInternal, "internal_error", 500, "Internal server error", 500},
    ErrorInfo{Errc::kNotImplemented, "not_implemented", 501, "Not implemented", 501},
    ErrorInfo{Errc::kUnavailable, "service_unavailable", 503, "Service unavailable", 503},
};

}  // namespace

const ErrorInfo& error_info(Errc errc) {
    return kErrorTable[static_cast<std::size_t>(errc)];
}

std::span<const ErrorInfo> all_error_infos() {
    return kErrorTable;
}

void throw_exception_from_error(const Error& error, const boost::source_location&) {
    throw ErrorException(error);
}

}  // namespace tl
