// The webhook outbox of the SQLite store: per-call order, claims, retries, dead letters, crash
// recovery and organization scoping.

#include "common/temp_dir.hpp"
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"

namespace tl::store {
namespace {

namespace fs = std::filesystem;

// Every TempDir of this file is named tl_outbox_*.
class TempDir : public tl::TempDir {
public:
    TempDir() : tl::TempDir("tl_outbox") {}
};

constexpr const char* kOrgA = "org-a";
constexpr const char* kOrgB = "org-b";
constexpr const char* kT0 = "2025-01-01T00:00:00.000Z";
constexpr const char* kT1 = "2025-01-01T00:00:01.000Z";
constexpr const char* kT2 = "2025-01-01T00:00:02.000Z";
constexpr const char* kLater = "2025-01-01T01:00:00.000Z";

WebhookDelivery make_delivery(std::string id,
                              std::optional<std::string> call_id,
                              std::string created_at = kT0,
                              std::string org = kOrgA) {
    WebhookDelivery d;
    d.id = std::move(id);
    d.org_id = std::move(org);
    d.call_id = std::move(call_id);
    d.event = "status-update";
    d.url = "http://127.0.0.1:9/hook";
    d.payload_json = R"({"message":{}})";
    d.secret_sealed = "tlsb1:abcd1234:c2VhbGVk";
    d.next_attempt_at = created_at;
    d.created_at = created_at;
    d.updated_at = created_at;
    return d;
}

std::vector<std::string> ids_of(const std::vector<WebhookDelivery>& ds) {
    std::vector<std::string> ids;
    for (const auto& d : ds) ids.push_back(d.id);
    return ids;
}

DeliveryFailure retry_at(std::string at, int code = 500) {
    return DeliveryFailure{code, "HTTP 500", std::move(at), kT1};
}

class OutboxTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_file_ = dir_.path() / "trunkline.db";
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
    std::vector<std::string> claim(const std::string& now = kLater, int limit = 100) {
        auto claimed = store_->claim_due_deliveries(now, limit);
        EXPECT_TRUE(claimed) << claimed.error().message;
        return claimed ? ids_of(*claimed) : std::vector<std::string>{};
    }

    TempDir dir_;
    fs::path db_file_;
    std::unique_ptr<Store> store_;
};

TEST_F(OutboxTest, EnqueueAndClaimRoundTrip) {
    auto d = make_delivery("d1", "call-1");
    d.last_status_code = 503;
    d.last_error = "earlier";
    ASSERT_TRUE(store_->enqueue_delivery(d));
    auto claimed = store_->claim_due_deliveries(kT1, 10).value();
    ASSERT_EQ(claimed.size(), 1u);
    const auto& c = claimed[0];
    EXPECT_EQ(c.id, "d1");
    EXPECT_EQ(c.org_id, kOrgA);
    EXPECT_EQ(c.call_id, "call-1");
    EXPECT_EQ(c.event, "status-update");
    EXPECT_EQ(c.url, d.url);
    EXPECT_EQ(c.payload_json, d.payload_json);
    EXPECT_EQ(c.secret_sealed, d.secret_sealed);
    EXPECT_EQ(c.status, "delivering");
    EXPECT_EQ(c.attempts, 0);
    EXPECT_EQ(c.last_status_code, 503);
    EXPECT_EQ(c.last_error, "earlier");
    EXPECT_EQ(c.updated_at, kT1);
    // Claimed once: not handed out again.
    EXPECT_TRUE(claim().empty());

    ASSERT_TRUE(store_->complete_delivery("d1", 204, kT2));
    auto done = store_->get_delivery(kOrgA, "d1").value();
    EXPECT_EQ(done.status, "delivered");
    EXPECT_EQ(done.attempts, 1);
    EXPECT_EQ(done.last_status_code, 204);
    EXPECT_EQ(done.last_error, std::nullopt);
    EXPECT_EQ(done.delivered_at, kT2);
    // Completing twice is a bug of the caller: nothing is delivering any more.
    EXPECT_EQ(store_->complete_delivery("d1", 204, kT2).error().code, Errc::kNotFound);
}

TEST_F(OutboxTest, DuplicateIdIsConflict) {
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("d1", "c")));
    EXPECT_EQ(store_->enqueue_delivery(make_delivery("d1", "c")).error().code, Errc::kConflict);
}

TEST_F(OutboxTest, NotDueIsNotClaimed) {
    auto d = make_delivery("d1", "c");
    d.next_attempt_at = kT2;
    ASSERT_TRUE(store_->enqueue_delivery(d));
    EXPECT_TRUE(claim(kT1).empty());
    EXPECT_EQ(claim(kT2), std::vector<std::string>{"d1"});
}

TEST_F(OutboxTest, ClaimsOldestFirstAndOnePerCall) {
    // Inserted out of order: created_at decides; same millisecond: insertion order.
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a2", "call-a", kT1)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a1", "call-a", kT0)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a3", "call-a", kT1)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("b1", "call-b", kT1)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("n1", std::nullopt, kT2)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("n2", std::nullopt, kT2)));

    EXPECT_EQ(claim(), (std::vector<std::string>{"a1", "b1", "n1", "n2"}));
    // a2 waits for a1 (delivering).
    EXPECT_TRUE(claim().empty());
    ASSERT_TRUE(store_->complete_delivery("a1", 200, kT2));
    EXPECT_EQ(claim(), std::vector<std::string>{"a2"});
    ASSERT_TRUE(store_->complete_delivery("a2", 200, kT2));
    EXPECT_EQ(claim(), std::vector<std::string>{"a3"});
}

TEST_F(OutboxTest, LimitIsRespected) {
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(store_->enqueue_delivery(make_delivery("d" + std::to_string(i), std::nullopt)));
    }
    EXPECT_EQ(claim(kLater, 2), (std::vector<std::string>{"d0", "d1"}));
    EXPECT_EQ(claim(kLater, 10), (std::vector<std::string>{"d2", "d3", "d4"}));
}

TEST_F(OutboxTest, FailedDeliveryHoldsBackLaterOnesOfItsCallUntilRetriedAndDelivered) {
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a1", "call-a", kT0)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a2", "call-a", kT1)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("b1", "call-b", kT1)));
    EXPECT_EQ(claim(kT1), (std::vector<std::string>{"a1", "b1"}));
    ASSERT_TRUE(store_->fail_delivery("a1", retry_at(kLater)));
    ASSERT_TRUE(store_->complete_delivery("b1", 200, kT1));

    auto a1 = store_->get_delivery(kOrgA, "a1").value();
    EXPECT_EQ(a1.status, "pending");
    EXPECT_EQ(a1.attempts, 1);
    EXPECT_EQ(a1.next_attempt_at, kLater);
    EXPECT_EQ(a1.last_status_code, 500);
    EXPECT_EQ(a1.last_error, "HTTP 500");

    // a2 is due but a1 (pending, not due) is earlier: nothing of call-a goes out.
    EXPECT_TRUE(claim(kT2).empty());
    EXPECT_EQ(claim(kLater), std::vector<std::string>{"a1"});
    ASSERT_TRUE(store_->complete_delivery("a1", 200, kLater));
    EXPECT_EQ(claim(kLater), std::vector<std::string>{"a2"});
}

TEST_F(OutboxTest, DeadLetterReleasesTheCallAndCanBeRetried) {
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a1", "call-a", kT0)));
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("a2", "call-a", kT1)));
    EXPECT_EQ(claim(), std::vector<std::string>{"a1"});
    ASSERT_TRUE(store_->fail_delivery("a1", DeliveryFailure{404, "HTTP 404", std::nullopt, kT1}));
    auto dead = store_->get_delivery(kOrgA, "a1").value();
    EXPECT_EQ(dead.status, "dead");
    EXPECT_EQ(dead.attempts, 1);
    EXPECT_EQ(dead.last_status_code, 404);

    // A dead letter no longer holds its call back.
    EXPECT_EQ(claim(), std::vector<std::string>{"a2"});

    // Only dead deliveries can be retried; another organization's is not found.
    EXPECT_EQ(store_->retry_delivery(kOrgA, "a2", kT2).error().code, Errc::kConflict);
    EXPECT_EQ(store_->retry_delivery(kOrgB, "a1", kT2).error().code, Errc::kNotFound);
    EXPECT_EQ(store_->retry_delivery(kOrgA, "missing", kT2).error().code, Errc::kNotFound);
    ASSERT_TRUE(store_->retry_delivery(kOrgA, "a1", kT2));
    auto retried = store_->get_delivery(kOrgA, "a1").value();
    EXPECT_EQ(retried.status, "pending");
    EXPECT_EQ(retried.next_attempt_at, kT2);
    EXPECT_EQ(retried.retried_at, kT2);
    // a2 (delivering) is later than a1, so it does not hold a1 back.
    EXPECT_EQ(claim(kT2), std::vector<std::string>{"a1"});
}

TEST_F(OutboxTest, RestartRecoveryResetsDeliveringToPending) {
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(store_->enqueue_delivery(make_delivery("d" + std::to_string(i), std::nullopt)));
    }
    ASSERT_TRUE(store_->enqueue_delivery(make_delivery("late", std::nullopt, kLater)));
    EXPECT_EQ(claim(kT1).size(), 3u);
    ASSERT_TRUE(store_->complete_delivery("d0", 200, kT1));
    reopen();  // the process died with d1, d2 delivering
    EXPECT_TRUE(claim(kT1).empty());
    EXPECT_EQ(store_->reset_stuck_deliveries(kT2).value(), 2);
    EXPECT_EQ(store_->count_pending_deliveries().value(), 3);
    EXPECT_EQ(claim(kT2), (std::vector<std::string>{"d1", "d2"}));
    EXPECT_EQ(store_->get_delivery(kOrgA, "d0").value().status, "delivered");
}

TEST_F(OutboxTest, UpdateCallAndEnqueueIsOneTransaction) {
    Call call;
    call.id = "call-1";
    call.org_id = kOrgA;
    call.created_at = kT0;
    call.updated_at = kT0;
    ASSERT_TRUE(store_->create_call(call));
    call.status = "in-progress";
    call.updated_at = kT1;
    ASSERT_TRUE(store_->update_call_and_enqueue(
        call, {make_delivery("e1", "call-1", kT1), make_delivery("e2", "call-1", kT1)}));
    EXPECT_EQ(store_->get_call(kOrgA, "call-1").value().status, "in-progress");
    EXPECT_EQ(store_->count_pending_deliveries().value(), 2);

    // A failing delivery insert (duplicate id) rolls the call change back too.
    call.status = "ended";
    EXPECT_FALSE(store_->update_call_and_enqueue(
        call, {make_delivery("e3", "call-1", kT2), make_delivery("e1", "call-1", kT2)}));
    EXPECT_EQ(store_->get_call(kOrgA, "call-1").value().status, "in-progress");
    EXPECT_EQ(store_->get_delivery(kOrgA, "e3").error().code, Errc::kNotFound);

    // An unknown call enqueues nothing.
    call.id = "missing";
    EXPECT_EQ(store_->update_call_and_enqueue(call, {make_delivery("e4", "missing")}).error().code,
              Errc::kNotFound);
    EXPECT_EQ(store_->count_pending_deliveries().value(), 2);
}

TEST_F(OutboxTest, ListFiltersPaginatesAndIsScopedByOrganization) {
    auto a = make_delivery("a1", "call-a", kT0);
    auto b = make_delivery("a2", "call-a", kT1);
    b.event = "end-of-call-report";
    auto c = make_delivery("a3", "call-c", kT2);
    auto other = make_delivery("b1", "call-b", kT2, kOrgB);
    for (const auto& d : {a, b, c, other}) ASSERT_TRUE(store_->enqueue_delivery(d));
    EXPECT_EQ(claim(), (std::vector<std::string>{"a1", "a3", "b1"}));
    ASSERT_TRUE(store_->fail_delivery("a1", DeliveryFailure{410, "HTTP 410", std::nullopt, kT1}));

    auto all = store_->list_deliveries(kOrgA, {}).value();
    EXPECT_EQ(all.total, 3);
    EXPECT_EQ(ids_of(all.deliveries), (std::vector<std::string>{"a3", "a2", "a1"}));

    DeliveryFilter dead;
    dead.status = "dead";
    EXPECT_EQ(ids_of(store_->list_deliveries(kOrgA, dead).value().deliveries),
              std::vector<std::string>{"a1"});
    DeliveryFilter report;
    report.event = "end-of-call-report";
    EXPECT_EQ(ids_of(store_->list_deliveries(kOrgA, report).value().deliveries),
              std::vector<std::string>{"a2"});
    DeliveryFilter by_call;
    by_call.call_id = "call-a";
    by_call.limit = 1;
    by_call.offset = 1;
    auto page = store_->list_deliveries(kOrgA, by_call).value();
    EXPECT_EQ(page.total, 2);
    EXPECT_EQ(ids_of(page.deliveries), std::vector<std::string>{"a1"});

    EXPECT_EQ(ids_of(store_->list_deliveries(kOrgB, {}).value().deliveries),
              std::vector<std::string>{"b1"});
    EXPECT_EQ(store_->get_delivery(kOrgB, "a1").error().code, Errc::kNotFound);
    // An unknown organization cannot own a delivery.
    EXPECT_FALSE(store_->enqueue_delivery(make_delivery("x", std::nullopt, kT0, "org-missing")));
}

}  // namespace
}  // namespace tl::store
