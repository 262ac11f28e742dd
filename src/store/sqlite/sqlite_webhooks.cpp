// The webhook outbox of the SQLite store (docs/webhooks.md).

#include <algorithm>
#include <string>

#include "store/sqlite/sqlite_store_impl.hpp"

namespace tl::store::detail {
namespace {

const std::string kDeliveryColumns =
    "id, org_id, call_id, event, url, payload_json, secret_sealed, status, attempts,"
    " next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at,"
    " retried_at";

// A pending delivery is held back while an earlier delivery of the same call (by created_at,
// then seq for the same millisecond) is not yet delivered or dead: per-call order, one in flight.
// Deliveries without a call are independent.
const std::string kSelectDue =
    "SELECT d.seq FROM webhook_deliveries d INDEXED BY webhook_deliveries_claim"
    " WHERE d.status = 'pending' AND d.next_attempt_at <= ?1"
    " AND (d.call_id IS NULL OR NOT EXISTS ("
    "   SELECT 1 FROM webhook_deliveries e"
    "   WHERE e.call_id = d.call_id AND e.status IN ('pending', 'delivering')"
    "   AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.seq < d.seq))))"
    " ORDER BY d.created_at, d.seq LIMIT ?2";

constexpr std::string_view kDeliveryFilter =
    " FROM webhook_deliveries WHERE org_id = ?1"
    " AND (?2 IS NULL OR status = ?2)"
    " AND (?3 IS NULL OR event = ?3)"
    " AND (?4 IS NULL OR call_id = ?4)";
const std::string kCountDeliveries = "SELECT COUNT(*)" + std::string(kDeliveryFilter);
const std::string kListDeliveries = "SELECT " + kDeliveryColumns + std::string(kDeliveryFilter) +
                                    " ORDER BY created_at DESC, seq DESC LIMIT ?5 OFFSET ?6";

WebhookDelivery read_delivery(const Statement& row) {
    WebhookDelivery d;
    d.id = row.text(0);
    d.org_id = row.text(1);
    d.call_id = row.opt_text(2);
    d.event = row.text(3);
    d.url = row.text(4);
    d.payload_json = row.text(5);
    d.secret_sealed = row.opt_text(6);
    d.status = row.text(7);
    d.attempts = static_cast<int>(row.int64(8));
    d.next_attempt_at = row.text(9);
    if (auto code = row.opt_int64(10)) d.last_status_code = static_cast<int>(*code);
    d.last_error = row.opt_text(11);
    d.created_at = row.text(12);
    d.updated_at = row.text(13);
    d.delivered_at = row.opt_text(14);
    d.retried_at = row.opt_text(15);
    return d;
}

std::optional<long long> to_opt_ll(std::optional<int> v) {
    if (!v) return std::nullopt;
    return static_cast<long long>(*v);
}

}  // namespace

Status SqliteStore::insert_delivery(Connection& conn, const WebhookDelivery& d) {
    auto stmt = conn.prepare("INSERT INTO webhook_deliveries (" + kDeliveryColumns +
                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    stmt->bind_all(d.id, d.org_id, d.call_id, d.event, d.url, d.payload_json, d.secret_sealed,
                   d.status, d.attempts, d.next_attempt_at, to_opt_ll(d.last_status_code),
                   d.last_error, d.created_at, d.updated_at, d.delivered_at, d.retried_at);
    if (auto done = stmt->run("enqueue webhook delivery"); !done) {
        return insert_error(done.error(), "a webhook delivery");
    }
    return {};
}

Status SqliteStore::enqueue_delivery(const WebhookDelivery& delivery) {
    return write([&](Connection& conn) { return insert_delivery(conn, delivery); });
}

Status SqliteStore::update_call_and_enqueue(const Call& call,
                                            const std::vector<WebhookDelivery>& deliveries) {
    return write([&](Connection& conn) -> Status {
        if (auto done = update_call_row(conn, call); !done) return done;
        for (const auto& d : deliveries) {
            if (auto done = insert_delivery(conn, d); !done) return done;
        }
        return {};
    });
}

Result<std::vector<WebhookDelivery>> SqliteStore::claim_due_deliveries(const std::string& now,
                                                                       int limit) {
    return write([&](Connection& conn) -> Result<std::vector<WebhookDelivery>> {
        std::vector<std::int64_t> seqs;
        {
            auto due = conn.prepare(kSelectDue);
            if (!due) return due.error();
            due->bind_all(now, std::max(limit, 0));
            while (true) {
                auto row = due->step("select due webhook deliveries");
                if (!row) return row.error();
                if (!*row) break;
                seqs.push_back(due->int64(0));
            }
        }
        std::vector<WebhookDelivery> claimed;
        claimed.reserve(seqs.size());
        for (auto seq : seqs) {
            auto stmt = conn.prepare(
                "UPDATE webhook_deliveries SET status = 'delivering', updated_at = ?"
                " WHERE seq = ? RETURNING " +
                kDeliveryColumns);
            if (!stmt) return stmt.error();
            stmt->bind_all(now, seq);
            auto row = stmt->step("claim webhook delivery");
            if (!row) return row.error();
            if (*row) claimed.push_back(read_delivery(*stmt));
            // Drain RETURNING so the UPDATE completes before the statement is reset.
            while (true) {
                auto more = stmt->step("claim webhook delivery");
                if (!more) return more.error();
                if (!*more) break;
            }
        }
        return claimed;
    });
}

Status SqliteStore::complete_delivery(const std::string& id,
                                      std::optional<int> status_code,
                                      const std::string& now) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,"
            " last_status_code = ?, last_error = NULL, delivered_at = ?, updated_at = ?"
            " WHERE id = ? AND status = 'delivering'");
        if (!stmt) return stmt.error();
        stmt->bind_all(to_opt_ll(status_code), now, now, id);
        return run_on_one_row(*stmt, "complete webhook delivery", "delivering webhook delivery");
    });
}

Status SqliteStore::fail_delivery(const std::string& id, const DeliveryFailure& f) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE webhook_deliveries SET attempts = attempts + 1,"
            " status = CASE WHEN ?1 IS NULL THEN 'dead' ELSE 'pending' END,"
            " next_attempt_at = COALESCE(?1, next_attempt_at),"
            " last_status_code = ?2, last_error = ?3, updated_at = ?4"
            " WHERE id = ?5 AND status = 'delivering'");
        if (!stmt) return stmt.error();
        stmt->bind_all(f.retry_at, to_opt_ll(f.status_code), f.error, f.at, id);
        return run_on_one_row(*stmt, "fail webhook delivery", "delivering webhook delivery");
    });
}

Result<WebhookDelivery> SqliteStore::get_delivery(const std::string& org_id,
                                                  const std::string& id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare("SELECT " + kDeliveryColumns +
                              " FROM webhook_deliveries WHERE org_id = ? AND id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    auto row = stmt->step("read webhook delivery");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "webhook delivery not found");
    return read_delivery(*stmt);
}

Result<DeliveryPage> SqliteStore::list_deliveries(const std::string& org_id,
                                                  const DeliveryFilter& filter) {
    auto conn = pool_->checkout();
    auto tx = Transaction::begin(*conn, Transaction::Mode::kRead);
    if (!tx) return tx.error();
    DeliveryPage page;
    {
        auto count = conn->prepare(kCountDeliveries);
        if (!count) return count.error();
        count->bind_all(org_id, filter.status, filter.event, filter.call_id);
        auto row = count->step("count webhook deliveries");
        if (!row) return row.error();
        page.total = *row ? count->int64(0) : 0;
    }
    auto stmt = conn->prepare(kListDeliveries);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, filter.status, filter.event, filter.call_id, std::max(filter.limit, 0),
                   std::max(filter.offset, 0));
    while (true) {
        auto row = stmt->step("list webhook deliveries");
        if (!row) return row.error();
        if (!*row) break;
        page.deliveries.push_back(read_delivery(*stmt));
    }
    if (auto done = tx->commit(); !done) return done.error();
    return page;
}

Status SqliteStore::retry_delivery(const std::string& org_id,
                                   const std::string& id,
                                   const std::string& now) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?1,"
            " retried_at = ?1, updated_at = ?1 WHERE org_id = ?2 AND id = ?3 AND status = 'dead'");
        if (!stmt) return stmt.error();
        stmt->bind_all(now, org_id, id);
        if (auto done = stmt->run("retry webhook delivery"); !done) return done.error();
        if (stmt->changes() == 1) return {};
        // Tell "not dead" from "not there" (another organization's row is not there).
        auto exists = conn.prepare("SELECT 1 FROM webhook_deliveries WHERE org_id = ? AND id = ?");
        if (!exists) return exists.error();
        exists->bind_all(org_id, id);
        auto row = exists->step("retry webhook delivery");
        if (!row) return row.error();
        if (!*row) return make_error(Errc::kNotFound, "webhook delivery not found");
        return make_error(Errc::kConflict, "only a dead webhook delivery can be retried", "status");
    });
}

Result<int> SqliteStore::reset_stuck_deliveries(const std::string& now) {
    return write([&](Connection& conn) -> Result<int> {
        auto stmt = conn.prepare(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?1,"
            " updated_at = ?1 WHERE status = 'delivering'");
        if (!stmt) return stmt.error();
        stmt->bind_all(now);
        if (auto done = stmt->run("reset stuck webhook deliveries"); !done) return done.error();
        return stmt->changes();
    });
}

Result<long long> SqliteStore::count_pending_deliveries() {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE status IN ('pending', 'delivering')");
    if (!stmt) return stmt.error();
    auto row = stmt->step("count pending webhook deliveries");
    if (!row) return row.error();
    return *row ? static_cast<long long>(stmt->int64(0)) : 0LL;
}

}  // namespace tl::store::detail
