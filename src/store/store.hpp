#pragma once
// The repository interface. Backends (SQLite now, PostgreSQL later) pass the same test suite.
//
// Rules every backend keeps:
// - Every org-owned read/write is scoped by `org_id`: a row of another organization is
//   Errc::kNotFound, exactly like a missing row, so ids cannot be probed.
// - A write that fails changes nothing (one transaction per call).
// - References are checked inside the same transaction: an assistant_id/transfer_trunk_id that
//   does not exist in the organization is Errc::kInvalidRequest with `field` set.
// - Deleting a trunk sets transfer_trunk_id to NULL on its numbers; deleting an assistant sets
//   assistant_id to NULL on its numbers (foreign keys ON DELETE SET NULL).
// - A duplicate phone_number (anywhere in the deployment) is Errc::kConflict, field "phone_number".
// - A trunk that identifies callers by address (direction inbound or both, auth_type ip) may not
//   list an allowed address whose range overlaps one of such a trunk of ANOTHER organization
//   (active or not): Errc::kAddressInUse, field "allowed_addresses[i]" (the lowest i), and a
//   message that names neither the other trunk nor its organization. Checked inside the write's
//   transaction. Within one organization overlaps are allowed. An update is not refused for
//   addresses the stored trunk already identified callers by (overlaps older than the check).
// - `id`, `created_at` and `updated_at` are assigned by the caller (the API layer), which keeps the
//   backends free of clocks and id generation and lets tests be deterministic.
//
// Thread-safety: all methods may be called concurrently from any thread.

#include "common/error.hpp"
#include "store/records.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tl::store {

class Store {
public:
    virtual ~Store() = default;

    // Schema version after migrations; migrations run when the store is opened.
    virtual int schema_version() = 0;

    // Organizations
    virtual Result<Organization> create_organization(const Organization& org) = 0;
    virtual Result<Organization> get_organization(const std::string& id) = 0;
    virtual Result<std::optional<Organization>> find_organization_by_name(
        const std::string& name) = 0;
    virtual Result<std::vector<Organization>> list_organizations() = 0;
    // Replaces the organization's webhook settings (url, sealed secret, events JSON).
    virtual Status update_organization_webhook(const Organization& org) = 0;

    // API keys (hash only)
    virtual Status create_api_key(const ApiKey& key) = 0;
    // Finds a key by its hash, revoked or not (the caller tells "revoked" from "unknown").
    virtual Result<std::optional<ApiKeyIdentity>> find_api_key_by_hash(const std::string& hash) = 0;
    virtual Result<std::vector<ApiKey>> list_api_keys(const std::optional<std::string>& org_id) = 0;
    // Revokes by id or by prefix; kNotFound when nothing matches.
    virtual Status revoke_api_key(const std::string& id_or_prefix, const std::string& revoked_at) = 0;

    // SIP trunks
    virtual Status create_trunk(const SipTrunk& trunk) = 0;
    virtual Result<SipTrunk> get_trunk(const std::string& org_id, const std::string& id) = 0;
    virtual Result<std::vector<SipTrunk>> list_trunks(const std::string& org_id) = 0;
    // Active trunks with direction inbound or both, across organizations (SIP identification).
    virtual Result<std::vector<SipTrunk>> list_inbound_trunks() = 0;
    // Replaces every column of the row identified by (trunk.org_id, trunk.id).
    virtual Status update_trunk(const SipTrunk& trunk) = 0;
    // The keep-alive's verdict; neither updated_at nor anything else of the trunk changes.
    virtual Status update_trunk_status(const std::string& org_id,
                                       const std::string& id,
                                       const std::string& status,
                                       const std::string& checked_at) = 0;
    // Trunks with options_ping_seconds set, of every organization.
    virtual Result<std::vector<SipTrunk>> list_pinged_trunks() = 0;
    virtual Status delete_trunk(const std::string& org_id, const std::string& id) = 0;

    // Phone numbers
    virtual Status create_number(const PhoneNumber& number) = 0;
    virtual Result<PhoneNumber> get_number(const std::string& org_id, const std::string& id) = 0;
    virtual Result<std::vector<PhoneNumber>> list_numbers(const std::string& org_id) = 0;
    virtual Status update_number(const PhoneNumber& number) = 0;
    virtual Status delete_number(const std::string& org_id, const std::string& id) = 0;
    // Routing lookup across organizations (inbound calls): kNotFound when unknown.
    virtual Result<PhoneNumber> find_number_by_e164(const std::string& e164) = 0;

    // Assistants
    virtual Status create_assistant(const Assistant& assistant) = 0;
    virtual Result<Assistant> get_assistant(const std::string& org_id, const std::string& id) = 0;
    virtual Result<std::vector<Assistant>> list_assistants(const std::string& org_id) = 0;
    virtual Status update_assistant(const Assistant& assistant) = 0;
    virtual Status delete_assistant(const std::string& org_id, const std::string& id) = 0;

    // Calls and their events
    virtual Status create_call(const Call& call) = 0;
    virtual Result<Call> get_call(const std::string& org_id, const std::string& id) = 0;
    virtual Result<CallPage> list_calls(const std::string& org_id, const CallFilter& filter) = 0;
    virtual Status update_call(const Call& call) = 0;
    virtual Status append_call_event(const CallEvent& event) = 0;
    virtual Result<std::vector<CallEvent>> list_call_events(const std::string& call_id) = 0;

    // SIP captures of calls (docs/troubleshooting.md). Saving replaces the call's capture (it is
    // saved again when a late message, the 200 to our BYE, arrives after the call ended).
    virtual Status save_call_capture(const CallSipCapture& capture) = 0;
    virtual Result<CallSipCapture> get_call_capture(const std::string& org_id,
                                                    const std::string& call_id) = 0;
    // Deletes captures stored before `before` (ISO-8601 UTC); returns how many.
    virtual Result<long long> purge_call_captures(const std::string& before) = 0;

    // Webhook outbox (docs/webhooks.md). Deliveries of one call are delivered in order: a claim
    // never returns a delivery while an earlier one (created_at, then insertion order) of the same
    // call is pending or delivering; delivered and dead ones no longer hold the call back.
    virtual Status enqueue_delivery(const WebhookDelivery& delivery) = 0;
    // Updates the call and enqueues its events in ONE transaction: both or neither.
    virtual Status update_call_and_enqueue(const Call& call,
                                           const std::vector<WebhookDelivery>& deliveries) = 0;
    // Marks up to `limit` due pending deliveries (next_attempt_at <= now) delivering and returns
    // them, oldest first, at most one per call.
    virtual Result<std::vector<WebhookDelivery>> claim_due_deliveries(const std::string& now,
                                                                      int limit) = 0;
    // delivering -> delivered (attempts + 1).
    virtual Status complete_delivery(const std::string& id,
                                     std::optional<int> status_code,
                                     const std::string& now) = 0;
    // delivering -> pending at failure.retry_at, or dead without one (attempts + 1).
    virtual Status fail_delivery(const std::string& id, const DeliveryFailure& failure) = 0;
    virtual Result<WebhookDelivery> get_delivery(const std::string& org_id,
                                                 const std::string& id) = 0;
    virtual Result<DeliveryPage> list_deliveries(const std::string& org_id,
                                                 const DeliveryFilter& filter) = 0;
    // dead -> pending, due now, its age counted from now. Not dead: kConflict.
    virtual Status retry_delivery(const std::string& org_id,
                                  const std::string& id,
                                  const std::string& now) = 0;
    // Crash recovery, at start before any dispatcher runs: delivering -> pending (due now).
    // Returns how many were reset.
    virtual Result<int> reset_stuck_deliveries(const std::string& now) = 0;
    virtual Result<long long> count_pending_deliveries() = 0;

    // BYOK provider keys (records.hpp ByokKey), one per (org_id, provider); deleting the
    // organization deletes them. Provider names are not checked here (the API layer does that).
    // Inserts the key, or replaces an existing one's secret_id, key_sealed and updated_at; a
    // replacement keeps the row's created_at and config_json (`key.config_json` is used only when
    // inserting). An unknown organization is kInvalidRequest with field "org_id".
    virtual Status upsert_byok_key(const ByokKey& key) = 0;
    // kNotFound when the organization has no key for `provider`.
    virtual Status delete_byok_key(const std::string& org_id, const std::string& provider) = 0;
    // The organization's keys ordered by provider, WITHOUT key_sealed (left empty): listings are
    // what the API shows, and the API never needs the sealed key.
    virtual Result<std::vector<ByokKey>> list_byok_keys(const std::string& org_id) = 0;
    // One key with key_sealed, for the server-side provider clients (see ByokKeys); never for an
    // API response. kNotFound when there is none.
    virtual Result<ByokKey> get_byok_key(const std::string& org_id,
                                         const std::string& provider) = 0;
    // Applies `config_patch_json` (a JSON object) to the stored config_json as an RFC 7396 JSON
    // Merge Patch (json_merge_patch.hpp) in one transaction, sets updated_at, and returns the row
    // WITHOUT key_sealed. kNotFound when there is no key for `provider`; kInvalidRequest with
    // field "config" when the patch is not a JSON object or the merged config would exceed
    // kMaxByokConfigBytes.
    virtual Result<ByokKey> update_byok_config(const std::string& org_id,
                                               const std::string& provider,
                                               const std::string& config_patch_json,
                                               const std::string& updated_at) = 0;
};

// The largest serialized config_json a BYOK key may hold after a merge.
inline constexpr std::size_t kMaxByokConfigBytes = 64 * 1024;

}  // namespace tl::store
