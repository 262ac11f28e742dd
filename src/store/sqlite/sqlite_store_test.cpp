#include "store/sqlite/sqlite_store_test_support.hpp"

#include <sqlite3.h>

#include <atomic>
#include <thread>

namespace tl::store {
namespace {

using namespace sqlite_test;
namespace fs = std::filesystem;

// --- Round trips
// ----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, OrganizationsRoundTrip) {
    auto org = store_->get_organization(kOrgA);
    ASSERT_TRUE(org);
    EXPECT_EQ(org->name, "Org A");
    EXPECT_EQ(org->created_at, kT0);

    auto found = store_->find_organization_by_name("Org B");
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->id, kOrgB);
    EXPECT_FALSE(store_->find_organization_by_name("nobody").value().has_value());

    auto all = store_->list_organizations().value();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, kOrgA);

    EXPECT_EQ(store_->get_organization("missing").error().code, Errc::kNotFound);
    auto dup = store_->create_organization(tl::store::Organization::named(kOrgA, "again", kT0));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, Errc::kConflict);
}

TEST_F(SqliteStoreTest, ApiKeysRoundTripAndRevoke) {
    ASSERT_TRUE(store_->create_api_key({"k1", kOrgA, "tl_live_Ab3x", "hash1", kT0, std::nullopt}));
    ASSERT_TRUE(store_->create_api_key({"k2", kOrgB, "tl_live_Zz9y", "hash2", kT0, std::nullopt}));
    ASSERT_TRUE(store_->create_api_key({"k3", kOrgB, "tl_live_Zz9y", "hash3", kT0, std::nullopt}));

    auto identity = store_->find_api_key_by_hash("hash1").value();
    ASSERT_TRUE(identity.has_value());
    EXPECT_EQ(identity->key.id, "k1");
    EXPECT_EQ(identity->key.prefix, "tl_live_Ab3x");
    EXPECT_FALSE(identity->key.revoked_at.has_value());
    EXPECT_EQ(identity->organization.id, kOrgA);
    EXPECT_EQ(identity->organization.name, "Org A");
    EXPECT_FALSE(store_->find_api_key_by_hash("nope").value().has_value());

    EXPECT_EQ(store_->list_api_keys(std::nullopt).value().size(), 3u);
    EXPECT_EQ(store_->list_api_keys(std::string(kOrgB)).value().size(), 2u);

    // By prefix; a second revocation keeps the first time.
    ASSERT_TRUE(store_->revoke_api_key("tl_live_Ab3x", "2025-02-01T00:00:00.000Z"));
    ASSERT_TRUE(store_->revoke_api_key("k1", "2025-03-01T00:00:00.000Z"));
    EXPECT_EQ(store_->find_api_key_by_hash("hash1").value()->key.revoked_at,
              "2025-02-01T00:00:00.000Z");

    auto ambiguous = store_->revoke_api_key("tl_live_Zz9y", kT0);
    ASSERT_FALSE(ambiguous);
    EXPECT_EQ(ambiguous.error().code, Errc::kConflict);
    EXPECT_FALSE(store_->find_api_key_by_hash("hash2").value()->key.revoked_at.has_value());
    ASSERT_TRUE(store_->revoke_api_key("k2", kT0));
    EXPECT_TRUE(store_->find_api_key_by_hash("hash2").value()->key.revoked_at.has_value());
    EXPECT_FALSE(store_->find_api_key_by_hash("hash3").value()->key.revoked_at.has_value());

    EXPECT_EQ(store_->revoke_api_key("unknown", kT0).error().code, Errc::kNotFound);

    auto dup_hash = store_->create_api_key({"k4", kOrgA, "p", "hash1", kT0, std::nullopt});
    ASSERT_FALSE(dup_hash);
    EXPECT_EQ(dup_hash.error().code, Errc::kConflict);
    auto no_org = store_->create_api_key({"k5", "org-x", "p", "hash5", kT0, std::nullopt});
    ASSERT_FALSE(no_org);
    EXPECT_EQ(no_org.error().code, Errc::kInvalidRequest);
    EXPECT_EQ(no_org.error().field, "org_id");
}

TEST_F(SqliteStoreTest, TrunksRoundTrip) {
    const std::vector<SipTrunk> trunks = {full_trunk("t-full", kOrgA),
                                          minimal_trunk("t-min", kOrgA)};
    for (const auto& trunk : trunks) {
        SCOPED_TRACE(trunk.id);
        ASSERT_TRUE(store_->create_trunk(trunk));
        auto read = store_->get_trunk(kOrgA, trunk.id);
        ASSERT_TRUE(read) << read.error().message;
        expect_same(*read, trunk);
    }
    auto listed = store_->list_trunks(kOrgA).value();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_TRUE(store_->list_trunks(kOrgB).value().empty());

    SipTrunk changed = minimal_trunk("t-full", kOrgA);  // every column replaced, incl. clearing
    changed.created_at = "1999-01-01T00:00:00.000Z";    // ignored: the creation time is fixed
    changed.updated_at = "2025-06-01T00:00:00.000Z";
    ASSERT_TRUE(store_->update_trunk(changed));
    changed.created_at = kT0;
    expect_same(store_->get_trunk(kOrgA, "t-full").value(), changed);

    auto dup = store_->create_trunk(minimal_trunk("t-min", kOrgA));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, Errc::kConflict);
    EXPECT_EQ(store_->update_trunk(minimal_trunk("t-none", kOrgA)).error().code, Errc::kNotFound);
    auto no_org = store_->create_trunk(minimal_trunk("t-x", "org-x"));
    ASSERT_FALSE(no_org);
    EXPECT_EQ(no_org.error().code, Errc::kInvalidRequest);
    EXPECT_EQ(no_org.error().field, "org_id");
}

TEST_F(SqliteStoreTest, NumbersRoundTrip) {
    ASSERT_TRUE(store_->create_trunk(minimal_trunk("t1", kOrgA)));
    ASSERT_TRUE(store_->create_assistant(make_assistant("a1", kOrgA)));
    PhoneNumber full = make_number("n1", kOrgA, "+31850835037");
    full.name = "Main line";
    full.assistant_id = "a1";
    full.transfer_trunk_id = "t1";
    full.is_active = false;
    const std::vector<PhoneNumber> numbers = {full, make_number("n2", kOrgA, "+31850835038")};
    for (const auto& number : numbers) {
        SCOPED_TRACE(number.id);
        ASSERT_TRUE(store_->create_number(number));
        expect_same(store_->get_number(kOrgA, number.id).value(), number);
    }
    expect_same(store_->find_number_by_e164("+31850835037").value(), full);
    EXPECT_EQ(store_->find_number_by_e164("+1555").error().code, Errc::kNotFound);
    EXPECT_EQ(store_->list_numbers(kOrgA).value().size(), 2u);

    PhoneNumber detached = full;
    detached.assistant_id.reset();
    detached.transfer_trunk_id.reset();
    detached.phone_number = "+31850835039";
    detached.updated_at = "2025-06-01T00:00:00.000Z";
    ASSERT_TRUE(store_->update_number(detached));
    expect_same(store_->get_number(kOrgA, "n1").value(), detached);
    EXPECT_EQ(store_->find_number_by_e164("+31850835037").error().code, Errc::kNotFound);

    ASSERT_TRUE(store_->delete_number(kOrgA, "n1"));
    EXPECT_EQ(store_->get_number(kOrgA, "n1").error().code, Errc::kNotFound);
    EXPECT_EQ(store_->delete_number(kOrgA, "n1").error().code, Errc::kNotFound);
}

TEST_F(SqliteStoreTest, AssistantsRoundTrip) {
    const Assistant assistant = make_assistant("a1", kOrgA);
    ASSERT_TRUE(store_->create_assistant(assistant));
    expect_same(store_->get_assistant(kOrgA, "a1").value(), assistant);

    Assistant changed = assistant;
    changed.name = "Support";
    changed.is_active = false;
    changed.config_json = R"({"first_message":"Bye"})";
    changed.updated_at = "2025-06-01T00:00:00.000Z";
    ASSERT_TRUE(store_->update_assistant(changed));
    expect_same(store_->get_assistant(kOrgA, "a1").value(), changed);
    EXPECT_EQ(store_->list_assistants(kOrgA).value().size(), 1u);

    ASSERT_TRUE(store_->delete_assistant(kOrgA, "a1"));
    EXPECT_EQ(store_->get_assistant(kOrgA, "a1").error().code, Errc::kNotFound);
}

TEST_F(SqliteStoreTest, CallsAndEventsRoundTrip) {
    Call full = make_call("c1", kOrgA, kT0, "in-progress");
    full.direction = "outbound";
    full.caller_phone = "+31612345678";
    full.assistant_phone = "+31850835037";
    full.assistant_id = "a1";  // calls keep ids of things that may be deleted later
    full.number_id = "n1";
    full.trunk_id = "t1";
    full.started_at = kT0;
    full.messages_json = R"([{"role":"assistant","content":"Hello"}])";
    full.sip_call_id = "abc@10.0.0.1";
    const std::vector<Call> calls = {full, make_call("c2", kOrgA, kT0)};
    for (const auto& call : calls) {
        SCOPED_TRACE(call.id);
        ASSERT_TRUE(store_->create_call(call));
        expect_same(store_->get_call(kOrgA, call.id).value(), call);
    }

    Call ended = full;
    ended.status = "ended";
    ended.end_reason = "customer-ended-call";
    ended.error = "none";
    ended.ended_at = "2025-01-01T00:01:05.000Z";
    ended.duration_seconds = 65;
    ended.updated_at = ended.ended_at.value();
    ASSERT_TRUE(store_->update_call(ended));
    expect_same(store_->get_call(kOrgA, "c1").value(), ended);

    ASSERT_TRUE(store_->append_call_event({0, "c1", "call.started", R"({"a":1})", kT0}));
    ASSERT_TRUE(store_->append_call_event({0, "c1", "call.ended", "{}", kT0}));
    ASSERT_TRUE(store_->append_call_event({0, "c2", "call.started", "{}", kT0}));
    auto events = store_->list_call_events("c1").value();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].type, "call.started");
    EXPECT_EQ(events[0].data_json, R"({"a":1})");
    EXPECT_EQ(events[0].created_at, kT0);
    EXPECT_EQ(events[1].type, "call.ended");
    EXPECT_LT(events[0].id, events[1].id);
    EXPECT_GT(events[0].id, 0);

    auto orphan = store_->append_call_event({0, "no-such-call", "x", "{}", kT0});
    ASSERT_FALSE(orphan);
    EXPECT_EQ(orphan.error().code, Errc::kNotFound);
}

// --- Organization scoping -----------------------------------------------------------------------

TEST_F(SqliteStoreTest, OtherOrganizationSeesNotFound) {
    ASSERT_TRUE(store_->create_trunk(full_trunk("t1", kOrgA)));
    ASSERT_TRUE(store_->create_assistant(make_assistant("a1", kOrgA)));
    ASSERT_TRUE(store_->create_number(make_number("n1", kOrgA, "+31850835037")));
    ASSERT_TRUE(store_->create_call(make_call("c1", kOrgA, kT0)));

    struct Case {
        const char* name;
        std::function<Errc()> attempt;
    };
    const auto code = [](const auto& result) {
        return result ? Errc::kInternal : result.error().code;  // kInternal = "it succeeded"
    };
    SipTrunk trunk_b = full_trunk("t1", kOrgB);
    PhoneNumber number_b = make_number("n1", kOrgB, "+31850835099");
    Assistant assistant_b = make_assistant("a1", kOrgB);
    Call call_b = make_call("c1", kOrgB, kT0);
    const std::vector<Case> cases = {
        {"get trunk", [&] { return code(store_->get_trunk(kOrgB, "t1")); }},
        {"update trunk", [&] { return code(store_->update_trunk(trunk_b)); }},
        {"delete trunk", [&] { return code(store_->delete_trunk(kOrgB, "t1")); }},
        {"get number", [&] { return code(store_->get_number(kOrgB, "n1")); }},
        {"update number", [&] { return code(store_->update_number(number_b)); }},
        {"delete number", [&] { return code(store_->delete_number(kOrgB, "n1")); }},
        {"get assistant", [&] { return code(store_->get_assistant(kOrgB, "a1")); }},
        {"update assistant", [&] { return code(store_->update_assistant(assistant_b)); }},
        {"delete assistant", [&] { return code(store_->delete_assistant(kOrgB, "a1")); }},
        {"get call", [&] { return code(store_->get_call(kOrgB, "c1")); }},
        {"update call", [&] { return code(store_->update_call(call_b)); }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(c.attempt(), Errc::kNotFound);
    }
    // A's rows are untouched and B's lists stay empty.
    expect_same(store_->get_trunk(kOrgA, "t1").value(), full_trunk("t1", kOrgA));
    expect_same(store_->get_number(kOrgA, "n1").value(), make_number("n1", kOrgA, "+31850835037"));
    expect_same(store_->get_assistant(kOrgA, "a1").value(), make_assistant("a1", kOrgA));
    expect_same(store_->get_call(kOrgA, "c1").value(), make_call("c1", kOrgA, kT0));
    EXPECT_TRUE(store_->list_trunks(kOrgB).value().empty());
    EXPECT_TRUE(store_->list_numbers(kOrgB).value().empty());
    EXPECT_TRUE(store_->list_assistants(kOrgB).value().empty());
    EXPECT_EQ(store_->list_calls(kOrgB, {}).value().total, 0);
}

// --- Foreign keys and references ----------------------------------------------------------------

TEST_F(SqliteStoreTest, DeletingTrunkOrAssistantDetachesNumbers) {
    ASSERT_TRUE(store_->create_trunk(minimal_trunk("t1", kOrgA)));
    ASSERT_TRUE(store_->create_assistant(make_assistant("a1", kOrgA)));
    for (const char* id : {"n1", "n2"}) {
        PhoneNumber n = make_number(id, kOrgA, std::string("+3185083503") + id[1]);
        n.assistant_id = "a1";
        n.transfer_trunk_id = "t1";
        ASSERT_TRUE(store_->create_number(n));
    }

    ASSERT_TRUE(store_->delete_trunk(kOrgA, "t1"));
    for (const auto& n : store_->list_numbers(kOrgA).value()) {
        EXPECT_FALSE(n.transfer_trunk_id.has_value()) << n.id;
        EXPECT_EQ(n.assistant_id, "a1") << n.id;
    }
    ASSERT_TRUE(store_->delete_assistant(kOrgA, "a1"));
    for (const auto& n : store_->list_numbers(kOrgA).value()) {
        EXPECT_FALSE(n.assistant_id.has_value()) << n.id;
    }
    EXPECT_EQ(store_->list_numbers(kOrgA).value().size(), 2u) << "numbers are not deleted";
    EXPECT_EQ(store_->delete_trunk(kOrgA, "t1").error().code, Errc::kNotFound);
}

TEST_F(SqliteStoreTest, DuplicatePhoneNumberIsConflict) {
    ASSERT_TRUE(store_->create_number(make_number("n1", kOrgA, "+31850835037")));
    ASSERT_TRUE(store_->create_number(make_number("n2", kOrgA, "+31850835038")));
    struct Case {
        const char* name;
        std::function<Status()> attempt;
    };
    const std::vector<Case> cases = {
        {"create in same org",
         [&] { return store_->create_number(make_number("n3", kOrgA, "+31850835037")); }},
        {"create in other org",
         [&] { return store_->create_number(make_number("n4", kOrgB, "+31850835037")); }},
        {"update to a taken number",
         [&] { return store_->update_number(make_number("n2", kOrgA, "+31850835037")); }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto result = c.attempt();
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().code, Errc::kConflict);
        EXPECT_EQ(result.error().field, "phone_number");
    }
    EXPECT_EQ(store_->get_number(kOrgA, "n2").value().phone_number, "+31850835038");
    EXPECT_EQ(store_->list_numbers(kOrgB).value().size(), 0u);
    // Keeping its own number is not a conflict.
    EXPECT_TRUE(store_->update_number(make_number("n1", kOrgA, "+31850835037")));
}

TEST_F(SqliteStoreTest, BadReferenceIsInvalidRequestWithField) {
    ASSERT_TRUE(store_->create_trunk(minimal_trunk("t-b", kOrgB)));
    ASSERT_TRUE(store_->create_assistant(make_assistant("a-b", kOrgB)));
    ASSERT_TRUE(store_->create_number(make_number("n1", kOrgA, "+31850835037")));
    struct Case {
        const char* name;
        std::optional<std::string> assistant_id;
        std::optional<std::string> transfer_trunk_id;
        const char* field;
    };
    const std::vector<Case> cases = {
        {"missing assistant", "a-none", std::nullopt, "assistant_id"},
        {"assistant of another org", "a-b", std::nullopt, "assistant_id"},
        {"missing trunk", std::nullopt, "t-none", "transfer_trunk_id"},
        {"trunk of another org", std::nullopt, "t-b", "transfer_trunk_id"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        PhoneNumber created = make_number("n2", kOrgA, "+31850835038");
        created.assistant_id = c.assistant_id;
        created.transfer_trunk_id = c.transfer_trunk_id;
        PhoneNumber updated = created;
        updated.id = "n1";
        updated.phone_number = "+31850835037";
        for (const Status& result :
             {store_->create_number(created), store_->update_number(updated)}) {
            ASSERT_FALSE(result);
            EXPECT_EQ(result.error().code, Errc::kInvalidRequest);
            EXPECT_EQ(result.error().field, c.field);
            EXPECT_NE(result.error().message.find(c.field), std::string::npos);
        }
    }
    // Nothing was written by any failed attempt.
    auto numbers = store_->list_numbers(kOrgA).value();
    ASSERT_EQ(numbers.size(), 1u);
    expect_same(numbers[0], make_number("n1", kOrgA, "+31850835037"));
}

TEST_F(SqliteStoreTest, FailedWritesLeaveNothingBehindAndPoolStaysUsable) {
    ASSERT_TRUE(store_->create_assistant(make_assistant("a1", kOrgA)));
    ASSERT_TRUE(store_->create_number(make_number("n1", kOrgA, "+31850835037")));
    ASSERT_TRUE(store_->create_number(make_number("n2", kOrgA, "+31850835038")));
    // Valid assistant, but the number is taken: the assistant must not be attached either.
    PhoneNumber change = make_number("n2", kOrgA, "+31850835037");
    change.assistant_id = "a1";
    change.name = "renamed";
    // Many failures in a row: every pooled connection must come back out of its transaction.
    for (int i = 0; i < 20; ++i) {
        ASSERT_FALSE(store_->update_number(change));
        ASSERT_FALSE(store_->create_trunk(minimal_trunk("t-x", "org-none")));
        ASSERT_FALSE(store_->create_organization(tl::store::Organization::named(kOrgA, "dup", kT0)));
    }
    expect_same(store_->get_number(kOrgA, "n2").value(), make_number("n2", kOrgA, "+31850835038"));
    EXPECT_TRUE(store_->list_trunks("org-none").value().empty());
    ASSERT_TRUE(store_->create_trunk(minimal_trunk("t-ok", kOrgA)));
    reopen();
    EXPECT_TRUE(store_->get_trunk(kOrgA, "t-ok"));
    expect_same(store_->get_number(kOrgA, "n2").value(), make_number("n2", kOrgA, "+31850835038"));
}

TEST_F(SqliteStoreTest, ListCallsFiltersAndPaginates) {
    const std::vector<Call> calls = {
        make_call("c1", kOrgA, "2025-01-01T09:00:00.000Z", "ended"),
        make_call("c2", kOrgA, "2025-01-01T23:59:59.999Z", "failed"),
        make_call("c3", kOrgA, "2025-01-02T10:00:00.000Z", "ended"),
        make_call("c4", kOrgA, "2025-01-03T08:00:00.000Z", "in-progress"),
        make_call("c5", kOrgA, "2025-01-03T12:00:00.000Z", "ended"),
        make_call("b1", kOrgB, "2025-01-02T10:00:00.000Z", "ended"),
    };
    for (const auto& call : calls) ASSERT_TRUE(store_->create_call(call));

    struct Case {
        const char* name;
        CallFilter filter;
        std::vector<std::string> ids;
        long long total;
    };
    const auto filter = [](std::optional<std::string> status, std::optional<std::string> start,
                           std::optional<std::string> end, int limit = 100, int offset = 0) {
        return CallFilter{std::move(status), std::move(start), std::move(end), limit, offset};
    };
    const std::vector<Case> cases = {
        {"all, newest first", {}, {"c5", "c4", "c3", "c2", "c1"}, 5},
        {"status", filter("ended", {}, {}), {"c5", "c3", "c1"}, 3},
        {"unknown status", filter("ringing", {}, {}), {}, 0},
        {"start date", filter({}, "2025-01-02", {}), {"c5", "c4", "c3"}, 3},
        {"end date includes its whole day", filter({}, {}, "2025-01-01"), {"c2", "c1"}, 2},
        {"date range", filter({}, "2025-01-02", "2025-01-02"), {"c3"}, 1},
        {"timestamp bounds inclusive",
         filter({}, "2025-01-01T23:59:59.999Z", "2025-01-03T08:00:00.000Z"),
         {"c4", "c3", "c2"},
         3},
        {"status and range", filter("ended", "2025-01-02", "2025-01-03"), {"c5", "c3"}, 2},
        {"first page", filter({}, {}, {}, 2, 0), {"c5", "c4"}, 5},
        {"second page", filter({}, {}, {}, 2, 2), {"c3", "c2"}, 5},
        {"last page", filter({}, {}, {}, 2, 4), {"c1"}, 5},
        {"past the end", filter({}, {}, {}, 2, 10), {}, 5},
        {"zero limit still counts", filter({}, {}, {}, 0, 0), {}, 5},
        {"negative values clamp", filter({}, {}, {}, -1, -5), {}, 5},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto page = store_->list_calls(kOrgA, c.filter);
        ASSERT_TRUE(page) << page.error().message;
        std::vector<std::string> ids;
        for (const auto& call : page->calls) ids.push_back(call.id);
        EXPECT_EQ(ids, c.ids);
        EXPECT_EQ(page->total, c.total);
    }
}

// --- Concurrency --------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ConcurrentReadersAndAWriter) {
    ASSERT_TRUE(store_->create_trunk(full_trunk("t1", kOrgA)));
    ASSERT_TRUE(store_->create_assistant(make_assistant("a1", kOrgA)));
    ASSERT_TRUE(store_->create_number(make_number("n1", kOrgA, "+31850835037")));
    ASSERT_TRUE(store_->create_call(make_call("c0", kOrgA, kT0)));

    constexpr int kReaders = 6;
    constexpr int kIterations = 300;
    constexpr int kWrites = 100;
    std::atomic<int> failures{0};
    std::atomic<bool> writing{true};
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
        for (int i = 0; i < kWrites; ++i) {
            const std::string id = "w" + std::to_string(i);
            if (!store_->create_call(make_call(id, kOrgA, "2025-02-01T00:00:00.000Z"))) ++failures;
            if (!store_->append_call_event({0, id, "call.started", "{}", kT0})) ++failures;
        }
        writing = false;
    });
    for (int r = 0; r < kReaders; ++r) {
        threads.emplace_back([&] {
            for (int i = 0; i < kIterations; ++i) {
                auto trunk = store_->get_trunk(kOrgA, "t1");
                if (!trunk || trunk->headers.size() != 2) ++failures;
                if (!store_->get_number(kOrgA, "n1")) ++failures;
                if (!store_->get_assistant(kOrgA, "a1")) ++failures;
                if (!store_->find_number_by_e164("+31850835037")) ++failures;
                auto page = store_->list_calls(kOrgA, CallFilter{{}, {}, {}, 10, 0});
                if (!page || page->total < 1 ||
                    page->calls.size() !=
                        static_cast<std::size_t>(std::min<long long>(10, page->total))) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_FALSE(writing);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(store_->list_calls(kOrgA, {}).value().total, kWrites + 1);
}

TEST_F(SqliteStoreTest, ConcurrentWritersAllSucceed) {
    constexpr int kWriters = 4;
    constexpr int kEach = 50;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < kEach; ++i) {
                const std::string suffix = std::to_string(w) + "-" + std::to_string(i);
                if (!store_->create_trunk(minimal_trunk("t" + suffix, kOrgA))) ++failures;
                PhoneNumber n =
                    make_number("n" + suffix, kOrgA, "+3185" + std::to_string(w * 1000 + i));
                n.transfer_trunk_id = "t" + suffix;
                if (!store_->create_number(n)) ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(store_->list_numbers(kOrgA).value().size(),
              static_cast<std::size_t>(kWriters * kEach));
}

}  // namespace
}  // namespace tl::store

namespace tl::store {
namespace {

using namespace sqlite_test;

// Every configuration change bumps the organization's revision (caches and ETags rely on it),
// and only that organization's.
TEST_F(SqliteStoreTest, ConfigurationChangesBumpTheOrganizationRevision) {
    auto revision = [&](const char* org) { return store_->get_organization(org).value().revision; };
    const auto a0 = revision(kOrgA);
    const auto b0 = revision(kOrgB);
    ASSERT_TRUE(store_->create_trunk(minimal_trunk("t1", kOrgA)));
    const auto a1 = revision(kOrgA);
    EXPECT_GT(a1, a0);
    ASSERT_TRUE(store_->create_assistant(make_assistant("a1", kOrgA)));
    ASSERT_TRUE(store_->create_number(make_number("n1", kOrgA, "+31850835037")));
    const auto a2 = revision(kOrgA);
    EXPECT_GT(a2, a1);
    auto number = store_->get_number(kOrgA, "n1").value();
    number.name = "renamed";
    ASSERT_TRUE(store_->update_number(number));
    const auto a3 = revision(kOrgA);
    EXPECT_GT(a3, a2);
    ASSERT_TRUE(store_->delete_trunk(kOrgA, "t1"));
    EXPECT_GT(revision(kOrgA), a3);
    EXPECT_EQ(revision(kOrgB), b0);
    // A failed write changes nothing, the revision included.
    const auto before = revision(kOrgA);
    EXPECT_FALSE(store_->create_number(make_number("n2", kOrgA, "+31850835037")));
    EXPECT_EQ(revision(kOrgA), before);
}

}  // namespace
}  // namespace tl::store
