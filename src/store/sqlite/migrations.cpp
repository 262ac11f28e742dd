#include "store/sqlite/migrations.hpp"

#include <array>
#include <string>

namespace tl::store::detail {
namespace {

// Text columns hold ISO-8601 UTC timestamps, which sort correctly as text. Vectors are JSON text.
// The calls table keeps assistant/number/trunk ids without foreign keys on purpose: a call is a
// historical record and must keep naming what it used after that is deleted.
constexpr std::string_view kV1Initial = R"sql(
CREATE TABLE organizations (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX organizations_name ON organizations(name);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys(hash);
CREATE INDEX api_keys_prefix ON api_keys(prefix);
CREATE INDEX api_keys_org ON api_keys(org_id, created_at, id);

CREATE TABLE sip_trunks (
    id                      TEXT PRIMARY KEY NOT NULL,
    org_id                  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    host                    TEXT NOT NULL,
    port                    INTEGER NOT NULL,
    username                TEXT,
    password_sealed         TEXT,
    direction               TEXT NOT NULL,
    transport               TEXT NOT NULL,
    auth_type               TEXT NOT NULL,
    caller_id               TEXT,
    allowed_addresses       TEXT NOT NULL DEFAULT '[]',
    numbers                 TEXT NOT NULL DEFAULT '[]',
    transfer_method         TEXT NOT NULL,
    headers                 TEXT NOT NULL DEFAULT '[]',
    inbound_username        TEXT,
    inbound_password_sealed TEXT,
    is_active               INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX sip_trunks_org ON sip_trunks(org_id, created_at, id);

CREATE TABLE assistants (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    is_active   INTEGER NOT NULL,
    config_json TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX assistants_org ON assistants(org_id, created_at, id);

CREATE TABLE phone_numbers (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    phone_number      TEXT NOT NULL UNIQUE,
    name              TEXT,
    assistant_id      TEXT REFERENCES assistants(id) ON DELETE SET NULL,
    transfer_trunk_id TEXT REFERENCES sip_trunks(id) ON DELETE SET NULL,
    is_active         INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX phone_numbers_org ON phone_numbers(org_id, created_at, id);
-- Child-side indexes: without them every trunk/assistant delete scans all numbers.
CREATE INDEX phone_numbers_assistant ON phone_numbers(assistant_id);
CREATE INDEX phone_numbers_transfer_trunk ON phone_numbers(transfer_trunk_id);

CREATE TABLE calls (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    direction        TEXT NOT NULL,
    status           TEXT NOT NULL,
    caller_phone     TEXT,
    assistant_phone  TEXT,
    assistant_id     TEXT,
    number_id        TEXT,
    trunk_id         TEXT,
    end_reason       TEXT,
    error            TEXT,
    started_at       TEXT,
    ended_at         TEXT,
    duration_seconds INTEGER,
    messages_json    TEXT NOT NULL DEFAULT '[]',
    sip_call_id      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX calls_org_created ON calls(org_id, created_at, id);

CREATE TABLE call_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id    TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    data_json  TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX call_events_call ON call_events(call_id, id);
)sql";


// Every change to an organization's configuration bumps its revision, whoever makes it (this
// process, another node, the CLI). The API serves configuration lists from a cache keyed by the
// revision and answers ETag / If-None-Match with it (docs/adr/0004-config-revision-cache.md).
constexpr std::string_view kV2OrganizationRevision = R"sql(
ALTER TABLE organizations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER sip_trunks_insert_revision AFTER INSERT ON sip_trunks BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER sip_trunks_update_revision AFTER UPDATE ON sip_trunks BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER sip_trunks_delete_revision AFTER DELETE ON sip_trunks BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = OLD.org_id;
END;
CREATE TRIGGER phone_numbers_insert_revision AFTER INSERT ON phone_numbers BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER phone_numbers_update_revision AFTER UPDATE ON phone_numbers BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER phone_numbers_delete_revision AFTER DELETE ON phone_numbers BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = OLD.org_id;
END;
CREATE TRIGGER assistants_insert_revision AFTER INSERT ON assistants BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER assistants_update_revision AFTER UPDATE ON assistants BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
CREATE TRIGGER assistants_delete_revision AFTER DELETE ON assistants BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = OLD.org_id;
END;
)sql";

// National numbers (0850835037) become E.164 with the trunk's country calling code.
constexpr std::string_view kV3TrunkCountryCode = R"sql(
ALTER TABLE sip_trunks ADD COLUMN country_code TEXT;
)sql";

// The outcome of a call's transfer, shown on the call record.
constexpr std::string_view kV4CallTransfer = R"sql(
ALTER TABLE calls ADD COLUMN transfer_json TEXT;
)sql";

// The webhook outbox (docs/webhooks.md). `seq` orders deliveries created in the same
// millisecond; call_id has no foreign key (like calls' references): a delivery outlives its call.
constexpr std::string_view kV5WebhookDeliveries = R"sql(
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    org_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    call_id          TEXT,
    event            TEXT NOT NULL,
    url              TEXT NOT NULL,
    payload_json     TEXT NOT NULL,
    secret_sealed    TEXT,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivering', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT,
    retried_at       TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_call ON webhook_deliveries(call_id, created_at);
CREATE INDEX webhook_deliveries_org ON webhook_deliveries(org_id, created_at);
)sql";

// The organization's own webhook, the fallback after an assistant's webhook_url.
constexpr std::string_view kV6OrganizationWebhook = R"sql(
ALTER TABLE organizations ADD COLUMN webhook_url TEXT;
ALTER TABLE organizations ADD COLUMN webhook_secret_sealed TEXT;
ALTER TABLE organizations ADD COLUMN webhook_events TEXT;
)sql";

// The organization's own provider keys (BYOK), sealed; one per provider. `secret_id` is the
// opaque, non-secret name of the current key that the API shows (api-contract.md §4.12).
constexpr std::string_view kV7ByokKeys = R"sql(
CREATE TABLE byok_keys (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    secret_id   TEXT NOT NULL UNIQUE,
    key_sealed  TEXT NOT NULL,
    config_json TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, provider)
);
)sql";

// The dispatcher's claim walks pending deliveries in (created_at, seq) order and stops at its
// LIMIT: with only (status, next_attempt_at) SQLite sorted every due row first, about 35 ms per
// claim with 10,000 pending (docs/benchmarks.md, webhook deliveries).
constexpr std::string_view kV8WebhookClaimOrder = R"sql(
CREATE INDEX webhook_deliveries_claim ON webhook_deliveries(status, created_at, seq);
)sql";

// Outbound calls through a trunk (issue 7): what carriers differ on (From user part, digest
// username, P-Asserted-Identity) and the trunk's pacing. NULL = the default (caller ID, username,
// unlimited); existing trunks keep behaving as before.
constexpr std::string_view kV9TrunkOutbound = R"sql(
ALTER TABLE sip_trunks ADD COLUMN from_user TEXT;
ALTER TABLE sip_trunks ADD COLUMN auth_username TEXT;
ALTER TABLE sip_trunks ADD COLUMN send_pai INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sip_trunks ADD COLUMN max_concurrent_calls INTEGER;
ALTER TABLE sip_trunks ADD COLUMN max_calls_per_second REAL;
)sql";

// Refused INVITEs of known trunks are call records too (status failed): the status we answered.
constexpr std::string_view kV10CallSipStatus = R"sql(
ALTER TABLE calls ADD COLUMN sip_status INTEGER;
)sql";

// REFER targets: numbers are referred as sip: URIs unless the trunk asks for tel: (linphone
// refuses a tel: Refer-To with 400, baresip fails its NOTIFY with 500).
constexpr std::string_view kV11TrunkReferUri = R"sql(
ALTER TABLE sip_trunks ADD COLUMN refer_uri TEXT NOT NULL DEFAULT 'sip';
)sql";

// Seeing why a call failed: the operator's hint on a failed call, each call's SIP capture (kept
// for --sip-capture-retention-days, purged by stored_at), and trunk keep-alive (OPTIONS every
// options_ping_seconds; status reachable | unreachable | unknown, with the time of the check).
constexpr std::string_view kV12Diagnostics = R"sql(
ALTER TABLE calls ADD COLUMN hint TEXT;
CREATE TABLE call_sip_captures (
    call_id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    capture TEXT NOT NULL
);
CREATE INDEX call_sip_captures_stored_at ON call_sip_captures(stored_at);
CREATE INDEX calls_trunk_created ON calls(trunk_id, created_at);
ALTER TABLE sip_trunks ADD COLUMN options_ping_seconds INTEGER;
ALTER TABLE sip_trunks ADD COLUMN status TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE sip_trunks ADD COLUMN status_checked_at TEXT;
)sql";

constexpr std::array<std::string_view, 12> kMigrations = {
    kV1Initial,           kV2OrganizationRevision, kV3TrunkCountryCode, kV4CallTransfer,
    kV5WebhookDeliveries, kV6OrganizationWebhook,  kV7ByokKeys,         kV8WebhookClaimOrder,
    kV9TrunkOutbound,     kV10CallSipStatus,       kV11TrunkReferUri,   kV12Diagnostics};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY NOT NULL,"
    " applied_at TEXT NOT NULL)";

Result<int> current_version(Connection& conn) {
    auto stmt = conn.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!stmt) return stmt.error();
    auto row = stmt->step("read the schema version");
    if (!row) return row.error();
    return static_cast<int>(*row ? stmt->int64(0) : 0);
}

Status apply(Connection& conn, int version, std::string_view sql) {
    auto tx = Transaction::begin(conn, Transaction::Mode::kWrite);
    if (!tx) return tx.error();
    // Re-check under the write lock: another process may have applied it meanwhile.
    auto applied = current_version(conn);
    if (!applied) return applied.error();
    if (*applied >= version) return {};
    const std::string context = "apply schema migration " + std::to_string(version);
    if (auto done = exec(conn.db(), std::string(sql).c_str(), context); !done) {
        return done.error();
    }
    auto insert = conn.prepare(
        "INSERT INTO schema_migrations (version, applied_at) "
        "VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
    if (!insert) return insert.error();
    insert->bind_all(version);
    if (auto done = insert->run(context); !done) return done.error();
    return tx->commit();
}

}  // namespace

std::span<const std::string_view> sqlite_migrations() { return kMigrations; }

Result<int> run_migrations(Connection& conn) {
    if (auto done = exec(conn.db(), kCreateMigrationsTable, "create the migrations table"); !done) {
        return done.error();
    }
    auto version = current_version(conn);
    if (!version) return version.error();
    const int known = static_cast<int>(kMigrations.size());
    if (*version > known) {
        return make_error(Errc::kInternal, "database schema version " + std::to_string(*version) +
                                               " is newer than this Trunkline build supports (" +
                                               std::to_string(known) + "); upgrade Trunkline");
    }
    for (int v = *version + 1; v <= known; ++v) {
        if (auto done = apply(conn, v, kMigrations[static_cast<std::size_t>(v - 1)]); !done) {
            return done.error();
        }
    }
    return current_version(conn);
}

}  // namespace tl::store::detail
