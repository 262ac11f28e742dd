#pragma once
// Protocol-neutral error codes and the one table that maps each to its HTTP status, API error
// title, SIP status and metric label (STYLE.md "Errors"). Thread-safe: everything here is const.

#include <boost/system/result.hpp>

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tl {

enum class Errc {
    kInvalidRequest,
    kMissingField,
    kUnknownField,
    kInvalidJson,
    kInvalidPhoneNumber,
    kUnsupportedProvider,  // an assistant slot names a provider Trunkline does not run
    kPayloadTooLarge,
    kUnauthorized,
    kApiKeyRevoked,
    kForbidden,
    kNotFound,
    kMethodNotAllowed,
    kConflict,
    kAddressInUse,  // an inbound trunk's addresses overlap another organization's
    kRateLimited,
    kCallNotActive,
    kInternal,
    kNotImplemented,
    kUnavailable,
};

struct ErrorInfo {
    Errc errc;
    std::string_view code;   // stable machine code, also the metric label
    int http_status;
    std::string_view title;  // human title, sent as "error" (the HMS SDK shows it to users)
    int sip_status;
};

// The table row for `errc`; every enumerator has exactly one row (checked by error_test).
const ErrorInfo& error_info(Errc errc);

// Every row, in enum order, for table-driven tests and documentation.
std::span<const ErrorInfo> all_error_infos();

struct Error {
    Errc code = Errc::kInternal;
    std::string message;  // a sentence naming what was wrong
    std::string field;    // the offending field, when one is to blame
};

inline Error make_error(Errc code, std::string message, std::string field = {}) {
    return Error{code, std::move(message), std::move(field)};
}

class ErrorException : public std::runtime_error {
public:
    explicit ErrorException(Error error)
        : std::runtime_error(error.message), error_(std::move(error)) {}
    const Error& error() const { return error_; }

private:
    Error error_;
};

// Found by ADL when `.value()` is called on a failed Result.
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

using Status = boost::system::result<void, Error>;

}  // namespace tl
