#include "common/error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tl {
namespace {

TEST(ErrorTable, EveryCodeHasItsOwnRowInEnumOrder) {
    const auto rows = all_error_infos();
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(Errc::kUnavailable) + 1);
    std::set<std::string_view> codes;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(rows[i].errc), i) << rows[i].code;
        EXPECT_TRUE(codes.insert(rows[i].code).second) << "duplicate code " << rows[i].code;
        EXPECT_FALSE(rows[i].title.empty());
        EXPECT_GE(rows[i].http_status, 400);
        EXPECT_GE(rows[i].sip_status, 400);
    }
}

struct Mapping {
    Errc errc;
    std::string_view code;
    int http;
    int sip;
};

TEST(ErrorTable, MapsToDocumentedStatuses) {
    const Mapping cases[] = {
        {Errc::kInvalidRequest, "invalid_request", 400, 400},
        {Errc::kMissingField, "missing_field", 400, 400},
        {Errc::kInvalidPhoneNumber, "invalid_phone_number", 400, 484},
        {Errc::kUnsupportedProvider, "unsupported_provider", 400, 400},
        {Errc::kPayloadTooLarge, "payload_too_large", 413, 513},
        {Errc::kUnauthorized, "unauthorized", 401, 401},
        {Errc::kApiKeyRevoked, "api_key_revoked", 401, 401},
        {Errc::kNotFound, "not_found", 404, 404},
        {Errc::kConflict, "conflict", 409, 409},
        {Errc::kAddressInUse, "address_in_use", 409, 409},
        {Errc::kRateLimited, "rate_limit_exceeded", 429, 503},
        {Errc::kCallNotActive, "call_not_active", 400, 481},
        {Errc::kInternal, "internal_error", 500, 500},
    };
    for (const auto& c : cases) {
        const auto& info = error_info(c.errc);
        EXPECT_EQ(info.code, c.code);
        EXPECT_EQ(info.http_status, c.http) << c.code;
        EXPECT_EQ(info.sip_status, c.sip) << c.code;
    }
}

TEST(Result, ValueOnErrorThrowsTheError) {
    Result<int> r = make_error(Errc::kNotFound, "nope", "id");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "id");
    EXPECT_THROW((void)r.value(), ErrorException);
}

}  // namespace
}  // namespace tl
