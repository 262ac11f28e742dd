// Calls and call events of the SQLite store.

#include <algorithm>
#include <string>

#include "store/sqlite/sqlite_store_impl.hpp"

namespace tl::store::detail {
namespace {

const std::string kCallColumns =
    "id, org_id, direction, status, caller_phone, assistant_phone, assistant_id, number_id,"
    " trunk_id, end_reason, error, started_at, ended_at, duration_seconds, messages_json,"
    " sip_call_id, created_at, updated_at, transfer_json, sip_status, hint";
const std::string kInsertCall = "INSERT INTO calls (" + kCallColumns +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const std::string kSelectCall =
    "SELECT " + kCallColumns + " FROM calls WHERE org_id = ? AND id = ?";

// Every filter is optional: a NULL parameter disables its condition, so one cached statement
// serves all combinations. Timestamps compare as text (ISO-8601 UTC sorts). The end date compares
// only as many characters as it has, so "2025-01-31" includes that whole day.
constexpr std::string_view kCallFilter =
    " FROM calls WHERE org_id = ?1"
    " AND (?2 IS NULL OR status = ?2)"
    " AND (?3 IS NULL OR created_at >= ?3)"
    " AND (?4 IS NULL OR substr(created_at, 1, length(?4)) <= ?4)"
    " AND (?5 IS NULL OR trunk_id = ?5)";
const std::string kCountCalls = "SELECT COUNT(*)" + std::string(kCallFilter);
const std::string kListCalls = "SELECT " + kCallColumns + std::string(kCallFilter) +
                               " ORDER BY created_at DESC, id DESC LIMIT ?6 OFFSET ?7";

std::optional<long long> sip_status_column(const Call& c) {
    return c.sip_status ? std::optional<long long>(*c.sip_status) : std::nullopt;
}

Call read_call(const Statement& row) {
    Call c;
    c.id = row.text(0);
    c.org_id = row.text(1);
    c.direction = row.text(2);
    c.status = row.text(3);
    c.caller_phone = row.opt_text(4);
    c.assistant_phone = row.opt_text(5);
    c.assistant_id = row.opt_text(6);
    c.number_id = row.opt_text(7);
    c.trunk_id = row.opt_text(8);
    c.end_reason = row.opt_text(9);
    c.error = row.opt_text(10);
    c.started_at = row.opt_text(11);
    c.ended_at = row.opt_text(12);
    c.duration_seconds = row.opt_int64(13);
    c.messages_json = row.text(14);
    c.sip_call_id = row.opt_text(15);
    c.transfer_json = row.opt_text(18);
    if (const auto status = row.opt_int64(19)) c.sip_status = static_cast<int>(*status);
    c.hint = row.opt_text(20);
    c.created_at = row.text(16);
    c.updated_at = row.text(17);
    return c;
}

}  // namespace

Status SqliteStore::create_call(const Call& c) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(kInsertCall);
        if (!stmt) return stmt.error();
        stmt->bind_all(c.id, c.org_id, c.direction, c.status, c.caller_phone, c.assistant_phone,
                       c.assistant_id, c.number_id, c.trunk_id, c.end_reason, c.error, c.started_at,
                       c.ended_at, c.duration_seconds, c.messages_json, c.sip_call_id, c.created_at,
                       c.updated_at, c.transfer_json, sip_status_column(c), c.hint);
        if (auto done = stmt->run("create call"); !done) {
            return insert_error(done.error(), "a call");
        }
        return {};
    });
}

Result<Call> SqliteStore::get_call(const std::string& org_id, const std::string& id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectCall);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    auto row = stmt->step("read call");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "call not found");
    return read_call(*stmt);
}

Result<CallPage> SqliteStore::list_calls(const std::string& org_id, const CallFilter& filter) {
    auto conn = pool_->checkout();
    // One read transaction, so the total and the page come from the same snapshot.
    auto tx = Transaction::begin(*conn, Transaction::Mode::kRead);
    if (!tx) return tx.error();
    CallPage page;
    {
        auto count = conn->prepare(kCountCalls);
        if (!count) return count.error();
        count->bind_all(org_id, filter.status, filter.start_date, filter.end_date,
                        filter.trunk_id);
        auto row = count->step("count calls");
        if (!row) return row.error();
        page.total = *row ? count->int64(0) : 0;
    }
    auto stmt = conn->prepare(kListCalls);
    if (!stmt) return stmt.error();
    // A negative LIMIT means "no limit" to SQLite; the store never hands out unbounded pages.
    stmt->bind_all(org_id, filter.status, filter.start_date, filter.end_date, filter.trunk_id,
                   std::max(filter.limit, 0), std::max(filter.offset, 0));
    while (true) {
        auto row = stmt->step("list calls");
        if (!row) return row.error();
        if (!*row) break;
        page.calls.push_back(read_call(*stmt));
    }
    if (auto done = tx->commit(); !done) return done.error();
    return page;
}

Status SqliteStore::update_call_row(Connection& conn, const Call& c) {
    // id, org_id and created_at identify the call and never change.
    auto stmt = conn.prepare(
        "UPDATE calls SET direction = ?, status = ?, caller_phone = ?, assistant_phone = ?,"
        " assistant_id = ?, number_id = ?, trunk_id = ?, end_reason = ?, error = ?,"
        " started_at = ?, ended_at = ?, duration_seconds = ?, messages_json = ?,"
        " sip_call_id = ?, updated_at = ?, transfer_json = ?, sip_status = ?, hint = ?"
        " WHERE org_id = ? AND id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_all(c.direction, c.status, c.caller_phone, c.assistant_phone, c.assistant_id,
                   c.number_id, c.trunk_id, c.end_reason, c.error, c.started_at, c.ended_at,
                   c.duration_seconds, c.messages_json, c.sip_call_id, c.updated_at,
                   c.transfer_json, sip_status_column(c), c.hint, c.org_id, c.id);
    return run_on_one_row(*stmt, "update call", "call");
}

Status SqliteStore::update_call(const Call& c) {
    return write([&](Connection& conn) -> Status { return update_call_row(conn, c); });
}

Status SqliteStore::save_call_capture(const CallSipCapture& capture) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "INSERT INTO call_sip_captures (call_id, org_id, stored_at, capture)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET"
            " stored_at = excluded.stored_at, capture = excluded.capture");
        if (!stmt) return stmt.error();
        stmt->bind_all(capture.call_id, capture.org_id, capture.stored_at, capture.capture_json);
        return stmt->run("save the SIP capture of a call");
    });
}

Result<CallSipCapture> SqliteStore::get_call_capture(const std::string& org_id,
                                                     const std::string& call_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(
        "SELECT call_id, org_id, stored_at, capture FROM call_sip_captures"
        " WHERE org_id = ? AND call_id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, call_id);
    auto row = stmt->step("read the SIP capture of a call");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "no SIP capture stored for this call");
    return CallSipCapture{stmt->text(0), stmt->text(1), stmt->text(2), stmt->text(3)};
}

Result<long long> SqliteStore::purge_call_captures(const std::string& before) {
    long long purged = 0;
    auto st = write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare("DELETE FROM call_sip_captures WHERE stored_at < ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(before);
        if (auto done = stmt->run("purge old SIP captures"); !done) return done;
        purged = stmt->changes();
        return {};
    });
    if (!st) return st.error();
    return purged;
}

Status SqliteStore::append_call_event(const CallEvent& e) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "INSERT INTO call_events (id, call_id, type, data_json, created_at)"
            " VALUES (?, ?, ?, ?, ?)");
        if (!stmt) return stmt.error();
        // Event ids are the one id the store assigns: 0 asks for the next autoincrement value.
        if (e.id == 0) {
            stmt->bind(1, nullptr);
        } else {
            stmt->bind(1, static_cast<std::int64_t>(e.id));
        }
        stmt->bind(2, e.call_id);
        stmt->bind(3, e.type);
        stmt->bind(4, e.data_json);
        stmt->bind(5, e.created_at);
        if (auto done = stmt->run("append call event"); !done) {
            if (done.error().code == Errc::kInvalidRequest) {
                return make_error(Errc::kNotFound, "call not found", "call_id");
            }
            if (done.error().code == Errc::kConflict) {
                return make_error(Errc::kConflict, "a call event with this id already exists",
                                  "id");
            }
            return done.error();
        }
        return {};
    });
}

Result<std::vector<CallEvent>> SqliteStore::list_call_events(const std::string& call_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(
        "SELECT id, call_id, type, data_json, created_at FROM call_events"
        " WHERE call_id = ? ORDER BY id");
    if (!stmt) return stmt.error();
    stmt->bind_all(call_id);
    std::vector<CallEvent> events;
    while (true) {
        auto row = stmt->step("list call events");
        if (!row) return row.error();
        if (!*row) break;
        events.push_back(CallEvent{static_cast<long long>(stmt->int64(0)), stmt->text(1),
                                   stmt->text(2), stmt->text(3), stmt->text(4)});
    }
    return events;
}

}  // namespace tl::store::detail
