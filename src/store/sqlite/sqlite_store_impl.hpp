#pragma once
// The SQLite Store, split over sqlite_store.cpp (open, organizations, API keys),
// sqlite_resources.cpp (trunks, numbers, assistants), sqlite_calls.cpp (calls, events) and
// sqlite_webhooks.cpp (the webhook outbox) and sqlite_byok.cpp (BYOK provider keys).
//
// Thread-safety: every method may run concurrently; each checks a connection out of the pool for
// its duration. Writes also hold the pool's write mutex (one writer at a time, as SQLite allows).

#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "store/sqlite/connection_pool.hpp"
#include "store/sqlite/wal_checkpointer.hpp"
#include "store/store.hpp"

namespace tl::store::detail {

class SqliteStore final : public Store {
public:
    SqliteStore(std::unique_ptr<ConnectionPool> pool,
                int schema_version,
                std::unique_ptr<WalCheckpointer> checkpointer)
        : pool_(std::move(pool)),
          schema_version_(schema_version),
          checkpointer_(std::move(checkpointer)) {}

    int schema_version() override { return schema_version_; }

    Result<Organization> create_organization(const Organization& org) override;
    Result<Organization> get_organization(const std::string& id) override;
    Result<std::optional<Organization>> find_organization_by_name(const std::string& name) override;
    Result<std::vector<Organization>> list_organizations() override;
    Status update_organization_webhook(const Organization& org) override;

    Status create_api_key(const ApiKey& key) override;
    Result<std::optional<ApiKeyIdentity>> find_api_key_by_hash(const std::string& hash) override;
    Result<std::vector<ApiKey>> list_api_keys(const std::optional<std::string>& org_id) override;
    Status revoke_api_key(const std::string& id_or_prefix, const std::string& revoked_at) override;

    Status create_trunk(const SipTrunk& trunk) override;
    Result<SipTrunk> get_trunk(const std::string& org_id, const std::string& id) override;
    Result<std::vector<SipTrunk>> list_trunks(const std::string& org_id) override;
    Result<std::vector<SipTrunk>> list_inbound_trunks() override;
    Status update_trunk(const SipTrunk& trunk) override;
    Status update_trunk_status(const std::string& org_id,
                               const std::string& id,
                               const std::string& status,
                               const std::string& checked_at) override;
    Result<std::vector<SipTrunk>> list_pinged_trunks() override;
    Status delete_trunk(const std::string& org_id, const std::string& id) override;

    Status create_number(const PhoneNumber& number) override;
    Result<PhoneNumber> get_number(const std::string& org_id, const std::string& id) override;
    Result<std::vector<PhoneNumber>> list_numbers(const std::string& org_id) override;
    Status update_number(const PhoneNumber& number) override;
    Status delete_number(const std::string& org_id, const std::string& id) override;
    Result<PhoneNumber> find_number_by_e164(const std::string& e164) override;

    Status create_assistant(const Assistant& assistant) override;
    Result<Assistant> get_assistant(const std::string& org_id, const std::string& id) override;
    Result<std::vector<Assistant>> list_assistants(const std::string& org_id) override;
    Status update_assistant(const Assistant& assistant) override;
    Status delete_assistant(const std::string& org_id, const std::string& id) override;

    Status create_call(const Call& call) override;
    Result<Call> get_call(const std::string& org_id, const std::string& id) override;
    Result<CallPage> list_calls(const std::string& org_id, const CallFilter& filter) override;
    Status update_call(const Call& call) override;
    Status append_call_event(const CallEvent& event) override;
    Result<std::vector<CallEvent>> list_call_events(const std::string& call_id) override;
    Status save_call_capture(const CallSipCapture& capture) override;
    Result<CallSipCapture> get_call_capture(const std::string& org_id,
                                            const std::string& call_id) override;
    Result<long long> purge_call_captures(const std::string& before) override;

    Status enqueue_delivery(const WebhookDelivery& delivery) override;
    Status update_call_and_enqueue(const Call& call,
                                   const std::vector<WebhookDelivery>& deliveries) override;
    Result<std::vector<WebhookDelivery>> claim_due_deliveries(const std::string& now,
                                                              int limit) override;
    Status complete_delivery(const std::string& id,
                             std::optional<int> status_code,
                             const std::string& now) override;
    Status fail_delivery(const std::string& id, const DeliveryFailure& failure) override;
    Result<WebhookDelivery> get_delivery(const std::string& org_id, const std::string& id) override;
    Result<DeliveryPage> list_deliveries(const std::string& org_id,
                                         const DeliveryFilter& filter) override;
    Status retry_delivery(const std::string& org_id,
                          const std::string& id,
                          const std::string& now) override;
    Result<int> reset_stuck_deliveries(const std::string& now) override;
    Result<long long> count_pending_deliveries() override;

    Status upsert_byok_key(const ByokKey& key) override;
    Status delete_byok_key(const std::string& org_id, const std::string& provider) override;
    Result<std::vector<ByokKey>> list_byok_keys(const std::string& org_id) override;
    Result<ByokKey> get_byok_key(const std::string& org_id, const std::string& provider) override;
    Result<ByokKey> update_byok_config(const std::string& org_id,
                                       const std::string& provider,
                                       const std::string& config_patch_json,
                                       const std::string& updated_at) override;

private:
    // Runs `body(Connection&)` (returning a Result/Status) in one write transaction, committed
    // only when the body succeeded; any failure rolls everything back.
    template <class Body>
    auto write(Body&& body) -> decltype(body(std::declval<Connection&>())) {
        std::lock_guard lock(pool_->write_mutex());
        auto conn = pool_->checkout();
        auto tx = Transaction::begin(*conn, Transaction::Mode::kWrite);
        if (!tx) return tx.error();
        auto result = body(*conn);
        if (!result) return result;
        if (auto done = tx->commit(); !done) return done.error();
        return result;
    }

    // The call UPDATE shared by update_call and update_call_and_enqueue.
    static Status update_call_row(Connection& conn, const Call& call);
    static Status insert_delivery(Connection& conn, const WebhookDelivery& delivery);

    std::unique_ptr<ConnectionPool> pool_;
    const int schema_version_;
    // Declared last: destroyed first, so its thread stops before the pool closes.
    std::unique_ptr<WalCheckpointer> checkpointer_;
};

// Gives a failed insert of an org-owned row a specific error: the only UNIQUE constraint left to
// fail after the explicit checks is the primary key, the only foreign key the organization.
Error insert_error(Error error, std::string_view what);

// Runs a single-row UPDATE/DELETE and turns "no row matched" into kNotFound ("<what> not found").
Status run_on_one_row(Statement& stmt, std::string_view context, std::string_view what);

}  // namespace tl::store::detail
