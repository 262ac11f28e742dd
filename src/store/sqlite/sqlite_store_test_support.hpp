#pragma once
// Shared by the SQLite store test files: a temporary store with two organizations, record
// builders, and field-by-field comparisons.

#include "common/temp_dir.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/secret_box.hpp"
#include "store/sqlite/migrations.hpp"

namespace tl::store {

// Field-by-field equality for the round-trip tests (records have no operator== on purpose:
// the production code never needs one).
inline bool operator==(const SipHeader& a, const SipHeader& b) {
    return a.name == b.name && a.value == b.value;
}

namespace sqlite_test {

namespace fs = std::filesystem;

// Every TempDir of this file is named tl_sqlite_store_*.
class TempDir : public tl::TempDir {
public:
    TempDir() : tl::TempDir("tl_sqlite_store") {}
};

inline void expect_same(const SipTrunk& a, const SipTrunk& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.org_id, b.org_id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.port, b.port);
    EXPECT_EQ(a.username, b.username);
    EXPECT_EQ(a.password_sealed, b.password_sealed);
    EXPECT_EQ(a.direction, b.direction);
    EXPECT_EQ(a.transport, b.transport);
    EXPECT_EQ(a.auth_type, b.auth_type);
    EXPECT_EQ(a.caller_id, b.caller_id);
    EXPECT_EQ(a.allowed_addresses, b.allowed_addresses);
    EXPECT_EQ(a.numbers, b.numbers);
    EXPECT_EQ(a.transfer_method, b.transfer_method);
    EXPECT_EQ(a.headers, b.headers);
    EXPECT_EQ(a.inbound_username, b.inbound_username);
    EXPECT_EQ(a.inbound_password_sealed, b.inbound_password_sealed);
    EXPECT_EQ(a.country_code, b.country_code);
    EXPECT_EQ(a.from_user, b.from_user);
    EXPECT_EQ(a.auth_username, b.auth_username);
    EXPECT_EQ(a.send_pai, b.send_pai);
    EXPECT_EQ(a.max_concurrent_calls, b.max_concurrent_calls);
    EXPECT_EQ(a.max_calls_per_second, b.max_calls_per_second);
    EXPECT_EQ(a.is_active, b.is_active);
    EXPECT_EQ(a.created_at, b.created_at);
    EXPECT_EQ(a.updated_at, b.updated_at);
}

inline void expect_same(const PhoneNumber& a, const PhoneNumber& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.org_id, b.org_id);
    EXPECT_EQ(a.phone_number, b.phone_number);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.assistant_id, b.assistant_id);
    EXPECT_EQ(a.transfer_trunk_id, b.transfer_trunk_id);
    EXPECT_EQ(a.is_active, b.is_active);
    EXPECT_EQ(a.created_at, b.created_at);
    EXPECT_EQ(a.updated_at, b.updated_at);
}

inline void expect_same(const Assistant& a, const Assistant& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.org_id, b.org_id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.is_active, b.is_active);
    EXPECT_EQ(a.config_json, b.config_json);
    EXPECT_EQ(a.created_at, b.created_at);
    EXPECT_EQ(a.updated_at, b.updated_at);
}

inline void expect_same(const Call& a, const Call& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.org_id, b.org_id);
    EXPECT_EQ(a.direction, b.direction);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.caller_phone, b.caller_phone);
    EXPECT_EQ(a.assistant_phone, b.assistant_phone);
    EXPECT_EQ(a.assistant_id, b.assistant_id);
    EXPECT_EQ(a.number_id, b.number_id);
    EXPECT_EQ(a.trunk_id, b.trunk_id);
    EXPECT_EQ(a.end_reason, b.end_reason);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.started_at, b.started_at);
    EXPECT_EQ(a.ended_at, b.ended_at);
    EXPECT_EQ(a.duration_seconds, b.duration_seconds);
    EXPECT_EQ(a.messages_json, b.messages_json);
    EXPECT_EQ(a.sip_call_id, b.sip_call_id);
    EXPECT_EQ(a.created_at, b.created_at);
    EXPECT_EQ(a.updated_at, b.updated_at);
}

inline constexpr const char* kOrgA = "org-a";
inline constexpr const char* kOrgB = "org-b";
inline constexpr const char* kT0 = "2025-01-01T00:00:00.000Z";

inline SipTrunk full_trunk(std::string id, std::string org) {
    SipTrunk t;
    t.id = std::move(id);
    t.org_id = std::move(org);
    t.name = "Carrier \"main\"";
    t.host = "sip.example.com";
    t.port = 5061;
    t.username = "user";
    t.password_sealed = "tlsb1:abcd1234:c2VhbGVk";
    t.direction = "both";
    t.transport = "tls";
    t.auth_type = "ip";
    t.caller_id = "+31850835037";
    t.allowed_addresses = {"192.0.2.0/24", "2001:db8::/32"};
    t.numbers = {"+31850835037", "+31850835038"};
    t.transfer_method = "refer";
    t.headers = {{"X-Tenant", "acme"}, {"X-Quote", "say \"hi\"\n"}};
    t.inbound_username = "in-user";
    t.inbound_password_sealed = "tlsb1:abcd1234:aW4=";
    t.country_code = "31";
    t.from_user = "acme+main";
    t.auth_username = "acme-auth";
    t.send_pai = true;
    t.max_concurrent_calls = 30;
    t.max_calls_per_second = 2.5;
    t.is_active = false;
    t.created_at = kT0;
    t.updated_at = "2025-01-02T00:00:00.000Z";
    return t;
}

inline SipTrunk minimal_trunk(std::string id, std::string org) {
    SipTrunk t;
    t.id = std::move(id);
    t.org_id = std::move(org);
    t.name = "minimal";
    t.host = "10.0.0.1";
    t.created_at = kT0;
    t.updated_at = kT0;
    return t;
}

inline PhoneNumber make_number(std::string id, std::string org, std::string e164) {
    PhoneNumber n;
    n.id = std::move(id);
    n.org_id = std::move(org);
    n.phone_number = std::move(e164);
    n.created_at = kT0;
    n.updated_at = kT0;
    return n;
}

inline Assistant make_assistant(std::string id, std::string org) {
    Assistant a;
    a.id = std::move(id);
    a.org_id = std::move(org);
    a.name = "Receptionist";
    a.config_json = R"({"llm_config":{"model":"x"},"first_message":"Hello"})";
    a.created_at = kT0;
    a.updated_at = kT0;
    return a;
}

inline Call make_call(std::string id,
               std::string org,
               std::string created_at,
               std::string status = "ended") {
    Call c;
    c.id = std::move(id);
    c.org_id = std::move(org);
    c.status = std::move(status);
    c.created_at = created_at;
    c.updated_at = std::move(created_at);
    return c;
}

inline std::string read_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class SqliteStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_file_ = dir_.path() / "data" / "trunkline.db";
        reopen();
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrgA, "Org A", kT0)));
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrgB, "Org B", kT0)));
    }

    void reopen() {
        store_.reset();
        auto opened = open_sqlite_store(db_file_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
    }

    TempDir dir_;
    fs::path db_file_;
    std::unique_ptr<Store> store_;
};

}  // namespace sqlite_test
}  // namespace tl::store
