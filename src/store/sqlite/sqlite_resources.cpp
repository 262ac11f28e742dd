// SIP trunks, phone numbers and assistants of the SQLite store.

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/validation.hpp"
#include "store/sqlite/json_columns.hpp"
#include "store/sqlite/sqlite_store_impl.hpp"

namespace tl::store::detail {
namespace {

// --- SIP trunks ---------------------------------------------------------------------------------

const std::string kTrunkColumns =
    "id, org_id, name, host, port, username, password_sealed, direction, transport, auth_type,"
    " caller_id, allowed_addresses, numbers, transfer_method, headers, inbound_username,"
    " inbound_password_sealed, is_active, created_at, updated_at, country_code, from_user,"
    " auth_username, send_pai, max_concurrent_calls, max_calls_per_second, refer_uri,"
    " options_ping_seconds, status, status_checked_at";
const std::string kSelectTrunk =
    "SELECT " + kTrunkColumns + " FROM sip_trunks WHERE org_id = ? AND id = ?";
const std::string kListTrunks =
    "SELECT " + kTrunkColumns + " FROM sip_trunks WHERE org_id = ? ORDER BY created_at, id";
// Inbound trunks of every organization: the SIP edge identifies callers before it knows the org.
const std::string kListInboundTrunks = "SELECT " + kTrunkColumns +
                                       " FROM sip_trunks WHERE direction IN ('inbound', 'both')"
                                       " AND is_active = 1 ORDER BY created_at, id";
const std::string kListPingedTrunks = "SELECT " + kTrunkColumns +
                                      " FROM sip_trunks WHERE options_ping_seconds IS NOT NULL"
                                      " AND is_active = 1 ORDER BY created_at, id";
const std::string kInsertTrunk = "INSERT INTO sip_trunks (" + kTrunkColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                 " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// id, org_id and created_at identify the row and never change.
constexpr const char* kUpdateTrunk =
    "UPDATE sip_trunks SET name = ?, host = ?, port = ?, username = ?, password_sealed = ?,"
    " direction = ?, transport = ?, auth_type = ?, caller_id = ?, allowed_addresses = ?,"
    " numbers = ?, transfer_method = ?, headers = ?, inbound_username = ?,"
    " inbound_password_sealed = ?, is_active = ?, updated_at = ?, country_code = ?,"
    " from_user = ?, auth_username = ?, send_pai = ?, max_concurrent_calls = ?,"
    " max_calls_per_second = ?, refer_uri = ?, options_ping_seconds = ?"
    " WHERE org_id = ? AND id = ?";

Result<SipTrunk> read_trunk(const Statement& row) {
    SipTrunk t;
    t.id = row.text(0);
    t.org_id = row.text(1);
    t.name = row.text(2);
    t.host = row.text(3);
    t.port = static_cast<int>(row.int64(4));
    t.username = row.opt_text(5);
    t.password_sealed = row.opt_text(6);
    t.direction = row.text(7);
    t.transport = row.text(8);
    t.auth_type = row.text(9);
    t.caller_id = row.opt_text(10);
    auto allowed = decode_strings(row.text(11), "sip_trunks.allowed_addresses");
    if (!allowed) return allowed.error();
    t.allowed_addresses = std::move(*allowed);
    auto numbers = decode_strings(row.text(12), "sip_trunks.numbers");
    if (!numbers) return numbers.error();
    t.numbers = std::move(*numbers);
    t.transfer_method = row.text(13);
    auto headers = decode_headers(row.text(14));
    if (!headers) return headers.error();
    t.headers = std::move(*headers);
    t.inbound_username = row.opt_text(15);
    t.inbound_password_sealed = row.opt_text(16);
    t.is_active = row.boolean(17);
    t.created_at = row.text(18);
    t.updated_at = row.text(19);
    t.country_code = row.opt_text(20);
    t.from_user = row.opt_text(21);
    t.auth_username = row.opt_text(22);
    t.send_pai = row.boolean(23);
    if (const auto max_calls = row.opt_int64(24)) {
        t.max_concurrent_calls = static_cast<int>(*max_calls);
    }
    t.max_calls_per_second = row.opt_double(25);
    t.refer_uri = row.text(26);
    if (const auto seconds = row.opt_int64(27)) t.options_ping_seconds = static_cast<int>(*seconds);
    t.status = row.text(28);
    t.status_checked_at = row.opt_text(29);
    return t;
}

// Trunks that identify callers by source address (docs/calls.md "Who is calling"). Only they make
// two organizations' INVITEs indistinguishable when their addresses overlap.
bool identifies_by_address(std::string_view direction, std::string_view auth_type) {
    return (direction == "inbound" || direction == "both") && auth_type == "ip";
}

// The addresses the stored trunk (org_id, id) identifies callers by; none when it does not
// identify by address. kNotFound when there is no such trunk in the organization.
Result<std::vector<std::string>> addresses_claimed(Connection& conn,
                                                   const std::string& org_id,
                                                   const std::string& id) {
    auto stmt = conn.prepare(
        "SELECT direction, auth_type, allowed_addresses FROM sip_trunks"
        " WHERE org_id = ? AND id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    auto found = stmt->step("read sip trunk");
    if (!found) return found.error();
    if (!*found) return make_error(Errc::kNotFound, "sip trunk not found");
    if (!identifies_by_address(stmt->text(0), stmt->text(1))) return std::vector<std::string>{};
    return decode_strings(stmt->text(2), "sip_trunks.allowed_addresses");
}

// Refuses an allowed address of `trunk` that overlaps one of an address-identified inbound trunk
// of another organization (Store contract, store.hpp): an INVITE from the shared range could not
// be told apart, and one tenant could capture another's calls by listing its carrier's range.
// Inactive trunks count too, so re-activating one never collides. `kept` holds the addresses the
// stored row already claimed: an update that keeps them is not refused for an overlap that
// predates this check. The error names the field, never the other trunk or its organization.
// Runs inside the caller's write transaction, so two concurrent writes cannot both pass.
Status check_addresses_free(Connection& conn,
                            const SipTrunk& trunk,
                            const std::vector<std::string>& kept) {
    if (!identifies_by_address(trunk.direction, trunk.auth_type)) return {};
    std::vector<std::pair<std::size_t, IpNetwork>> claimed;
    for (std::size_t i = 0; i < trunk.allowed_addresses.size(); ++i) {
        const auto& address = trunk.allowed_addresses[i];
        if (std::find(kept.begin(), kept.end(), address) != kept.end()) continue;
        // The API validated every address; one that does not parse can match no caller either.
        if (auto network = parse_ip_network(address)) claimed.emplace_back(i, *network);
    }
    if (claimed.empty()) return {};
    auto stmt = conn.prepare(
        "SELECT allowed_addresses FROM sip_trunks WHERE org_id <> ? AND auth_type = 'ip'"
        " AND direction IN ('inbound', 'both')");
    if (!stmt) return stmt.error();
    stmt->bind_all(trunk.org_id);
    // The lowest overlapping index, so the error is the same whatever order the rows come in.
    std::size_t first_overlap = trunk.allowed_addresses.size();
    while (true) {
        auto row = stmt->step("check allowed_addresses");
        if (!row) return row.error();
        if (!*row) break;
        auto others = decode_strings(stmt->text(0), "sip_trunks.allowed_addresses");
        if (!others) return others.error();
        for (const auto& other : *others) {
            const auto network = parse_ip_network(other);
            if (!network) continue;
            for (const auto& [index, mine] : claimed) {
                if (index >= first_overlap) break;
                if (networks_overlap(mine, *network)) first_overlap = index;
            }
        }
    }
    if (first_overlap == trunk.allowed_addresses.size()) return {};
    const auto field = fmt::format("allowed_addresses[{}]", first_overlap);
    return make_error(Errc::kAddressInUse,
                      fmt::format("{} ({}) overlaps an address that an inbound trunk of another "
                                  "organization uses, so calls from there could not be told "
                                  "apart; ask the server's operator",
                                  field, trunk.allowed_addresses[first_overlap]),
                      field);
}

// --- Phone numbers ------------------------------------------------------------------------------

const std::string kNumberColumns =
    "id, org_id, phone_number, name, assistant_id, transfer_trunk_id, is_active, created_at,"
    " updated_at";
const std::string kSelectNumber =
    "SELECT " + kNumberColumns + " FROM phone_numbers WHERE org_id = ? AND id = ?";
const std::string kListNumbers =
    "SELECT " + kNumberColumns + " FROM phone_numbers WHERE org_id = ? ORDER BY created_at, id";
const std::string kSelectNumberByE164 =
    "SELECT " + kNumberColumns + " FROM phone_numbers WHERE phone_number = ?";

PhoneNumber read_number(const Statement& row) {
    PhoneNumber n;
    n.id = row.text(0);
    n.org_id = row.text(1);
    n.phone_number = row.text(2);
    n.name = row.opt_text(3);
    n.assistant_id = row.opt_text(4);
    n.transfer_trunk_id = row.opt_text(5);
    n.is_active = row.boolean(6);
    n.created_at = row.text(7);
    n.updated_at = row.text(8);
    return n;
}

// True when `sql` (binding org_id, id) finds a row.
Result<bool> exists(Connection& conn,
                    const char* sql,
                    const std::string& org_id,
                    const std::string& id,
                    std::string_view context) {
    auto stmt = conn.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    return stmt->step(context);
}

// The checks a number must pass before it is written, all inside the caller's write transaction
// so nothing can change between check and write. `number.id` is excluded from the duplicate
// check so an update may keep its own phone number.
Status check_number(Connection& conn, const PhoneNumber& number) {
    if (number.assistant_id) {
        auto found = exists(conn, "SELECT 1 FROM assistants WHERE org_id = ? AND id = ?",
                            number.org_id, *number.assistant_id, "check assistant_id");
        if (!found) return found.error();
        if (!*found) {
            return make_error(Errc::kInvalidRequest,
                              "assistant_id does not name an assistant of this organization",
                              "assistant_id");
        }
    }
    if (number.transfer_trunk_id) {
        auto found = exists(conn, "SELECT 1 FROM sip_trunks WHERE org_id = ? AND id = ?",
                            number.org_id, *number.transfer_trunk_id, "check transfer_trunk_id");
        if (!found) return found.error();
        if (!*found) {
            return make_error(Errc::kInvalidRequest,
                              "transfer_trunk_id does not name a sip trunk of this organization",
                              "transfer_trunk_id");
        }
    }
    auto dup = conn.prepare("SELECT 1 FROM phone_numbers WHERE phone_number = ? AND id <> ?");
    if (!dup) return dup.error();
    dup->bind_all(number.phone_number, number.id);
    auto taken = dup->step("check phone_number");
    if (!taken) return taken.error();
    if (*taken) {
        return make_error(Errc::kConflict,
                          "phone number " + number.phone_number + " is already registered",
                          "phone_number");
    }
    return {};
}

// --- Assistants ---------------------------------------------------------------------------------

const std::string kAssistantColumns =
    "id, org_id, name, is_active, config_json, created_at, updated_at";
const std::string kSelectAssistant =
    "SELECT " + kAssistantColumns + " FROM assistants WHERE org_id = ? AND id = ?";
const std::string kInsertAssistant =
    "INSERT INTO assistants (" + kAssistantColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)";
const std::string kListAssistants =
    "SELECT " + kAssistantColumns + " FROM assistants WHERE org_id = ? ORDER BY created_at, id";

Assistant read_assistant(const Statement& row) {
    return Assistant{row.text(0), row.text(1), row.text(2), row.boolean(3),
                     row.text(4), row.text(5), row.text(6)};
}

// Reads every row of a list statement through `read` (which returns T or Result<T>).
template <class T, class Read>
Result<std::vector<T>> read_all(Statement& stmt, std::string_view context, Read read) {
    std::vector<T> out;
    while (true) {
        auto row = stmt.step(context);
        if (!row) return row.error();
        if (!*row) break;
        if constexpr (std::is_same_v<decltype(read(stmt)), T>) {
            out.push_back(read(stmt));
        } else {
            auto item = read(stmt);
            if (!item) return item.error();
            out.push_back(std::move(*item));
        }
    }
    return out;
}

}  // namespace

// --- SIP trunks ---------------------------------------------------------------------------------

Status SqliteStore::create_trunk(const SipTrunk& t) {
    return write([&](Connection& conn) -> Status {
        if (auto st = check_addresses_free(conn, t, {}); !st) return st;
        auto stmt = conn.prepare(kInsertTrunk);
        if (!stmt) return stmt.error();
        stmt->bind_all(t.id, t.org_id, t.name, t.host, t.port, t.username, t.password_sealed,
                       t.direction, t.transport, t.auth_type, t.caller_id,
                       encode_strings(t.allowed_addresses), encode_strings(t.numbers),
                       t.transfer_method, encode_headers(t.headers), t.inbound_username,
                       t.inbound_password_sealed, t.is_active, t.created_at, t.updated_at,
                       t.country_code, t.from_user, t.auth_username, t.send_pai,
                       t.max_concurrent_calls, t.max_calls_per_second, t.refer_uri,
                       t.options_ping_seconds, t.status, t.status_checked_at);
        if (auto done = stmt->run("create sip trunk"); !done) {
            return insert_error(done.error(), "a sip trunk");
        }
        return {};
    });
}

Result<SipTrunk> SqliteStore::get_trunk(const std::string& org_id, const std::string& id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectTrunk);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    auto row = stmt->step("read sip trunk");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "sip trunk not found");
    return read_trunk(*stmt);
}

Result<std::vector<SipTrunk>> SqliteStore::list_inbound_trunks() {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListInboundTrunks);
    if (!stmt) return stmt.error();
    return read_all<SipTrunk>(*stmt, "list inbound sip trunks", read_trunk);
}

Result<std::vector<SipTrunk>> SqliteStore::list_trunks(const std::string& org_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListTrunks);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id);
    return read_all<SipTrunk>(*stmt, "list sip trunks", read_trunk);
}

Status SqliteStore::update_trunk(const SipTrunk& t) {
    return write([&](Connection& conn) -> Status {
        // The stored row first: another organization's (or a missing) trunk is kNotFound before
        // anything about addresses is said.
        auto kept = addresses_claimed(conn, t.org_id, t.id);
        if (!kept) return kept.error();
        if (auto st = check_addresses_free(conn, t, *kept); !st) return st;
        auto stmt = conn.prepare(kUpdateTrunk);
        if (!stmt) return stmt.error();
        stmt->bind_all(t.name, t.host, t.port, t.username, t.password_sealed, t.direction,
                       t.transport, t.auth_type, t.caller_id, encode_strings(t.allowed_addresses),
                       encode_strings(t.numbers), t.transfer_method, encode_headers(t.headers),
                       t.inbound_username, t.inbound_password_sealed, t.is_active, t.updated_at,
                       t.country_code, t.from_user, t.auth_username, t.send_pai,
                       t.max_concurrent_calls, t.max_calls_per_second, t.refer_uri,
                       t.options_ping_seconds, t.org_id, t.id);
        return run_on_one_row(*stmt, "update sip trunk", "sip trunk");
    });
}

Status SqliteStore::update_trunk_status(const std::string& org_id,
                                        const std::string& id,
                                        const std::string& status,
                                        const std::string& checked_at) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE sip_trunks SET status = ?, status_checked_at = ? WHERE org_id = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(status, checked_at, org_id, id);
        return run_on_one_row(*stmt, "update sip trunk status", "sip trunk");
    });
}

Result<std::vector<SipTrunk>> SqliteStore::list_pinged_trunks() {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListPingedTrunks);
    if (!stmt) return stmt.error();
    return read_all<SipTrunk>(*stmt, "list pinged sip trunks", read_trunk);
}

Status SqliteStore::delete_trunk(const std::string& org_id, const std::string& id) {
    // ON DELETE SET NULL detaches the trunk from numbers in the same statement.
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare("DELETE FROM sip_trunks WHERE org_id = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(org_id, id);
        return run_on_one_row(*stmt, "delete sip trunk", "sip trunk");
    });
}

// --- Phone numbers ------------------------------------------------------------------------------

Status SqliteStore::create_number(const PhoneNumber& n) {
    return write([&](Connection& conn) -> Status {
        if (auto checked = check_number(conn, n); !checked) return checked;
        auto stmt = conn.prepare(
            "INSERT INTO phone_numbers (id, org_id, phone_number, name, assistant_id,"
            " transfer_trunk_id, is_active, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!stmt) return stmt.error();
        stmt->bind_all(n.id, n.org_id, n.phone_number, n.name, n.assistant_id, n.transfer_trunk_id,
                       n.is_active, n.created_at, n.updated_at);
        if (auto done = stmt->run("create phone number"); !done) {
            return insert_error(done.error(), "a phone number");
        }
        return {};
    });
}

Result<PhoneNumber> SqliteStore::get_number(const std::string& org_id, const std::string& id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectNumber);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    auto row = stmt->step("read phone number");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "phone number not found");
    return read_number(*stmt);
}

Result<std::vector<PhoneNumber>> SqliteStore::list_numbers(const std::string& org_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListNumbers);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id);
    return read_all<PhoneNumber>(*stmt, "list phone numbers", read_number);
}

Status SqliteStore::update_number(const PhoneNumber& n) {
    return write([&](Connection& conn) -> Status {
        // Not-found first: another organization's id must not reveal anything through the
        // reference or duplicate checks.
        auto found = exists(conn, "SELECT 1 FROM phone_numbers WHERE org_id = ? AND id = ?",
                            n.org_id, n.id, "read phone number");
        if (!found) return found.error();
        if (!*found) return make_error(Errc::kNotFound, "phone number not found");
        if (auto checked = check_number(conn, n); !checked) return checked;
        auto stmt = conn.prepare(
            "UPDATE phone_numbers SET phone_number = ?, name = ?, assistant_id = ?,"
            " transfer_trunk_id = ?, is_active = ?, updated_at = ? WHERE org_id = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(n.phone_number, n.name, n.assistant_id, n.transfer_trunk_id, n.is_active,
                       n.updated_at, n.org_id, n.id);
        return run_on_one_row(*stmt, "update phone number", "phone number");
    });
}

Status SqliteStore::delete_number(const std::string& org_id, const std::string& id) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare("DELETE FROM phone_numbers WHERE org_id = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(org_id, id);
        return run_on_one_row(*stmt, "delete phone number", "phone number");
    });
}

Result<PhoneNumber> SqliteStore::find_number_by_e164(const std::string& e164) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectNumberByE164);
    if (!stmt) return stmt.error();
    stmt->bind_all(e164);
    auto row = stmt->step("find phone number");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "phone number not found");
    return read_number(*stmt);
}

// --- Assistants ---------------------------------------------------------------------------------

Status SqliteStore::create_assistant(const Assistant& a) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(kInsertAssistant);
        if (!stmt) return stmt.error();
        stmt->bind_all(a.id, a.org_id, a.name, a.is_active, a.config_json, a.created_at,
                       a.updated_at);
        if (auto done = stmt->run("create assistant"); !done) {
            return insert_error(done.error(), "an assistant");
        }
        return {};
    });
}

Result<Assistant> SqliteStore::get_assistant(const std::string& org_id, const std::string& id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectAssistant);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, id);
    auto row = stmt->step("read assistant");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "assistant not found");
    return read_assistant(*stmt);
}

Result<std::vector<Assistant>> SqliteStore::list_assistants(const std::string& org_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListAssistants);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id);
    return read_all<Assistant>(*stmt, "list assistants", read_assistant);
}

Status SqliteStore::update_assistant(const Assistant& a) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE assistants SET name = ?, is_active = ?, config_json = ?, updated_at = ?"
            " WHERE org_id = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(a.name, a.is_active, a.config_json, a.updated_at, a.org_id, a.id);
        return run_on_one_row(*stmt, "update assistant", "assistant");
    });
}

Status SqliteStore::delete_assistant(const std::string& org_id, const std::string& id) {
    // ON DELETE SET NULL unassigns the assistant from its numbers in the same statement.
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare("DELETE FROM assistants WHERE org_id = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(org_id, id);
        return run_on_one_row(*stmt, "delete assistant", "assistant");
    });
}

}  // namespace tl::store::detail
