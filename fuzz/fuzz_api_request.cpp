// Fuzzes the REST control plane through the real Router with every route (api/router.hpp), on a
// temporary SQLite store built once per process, without any network.
//
// Input layout (docs/fuzzing.md has examples):
//   byte 0   method: kMethods[b % 8]          ('0'..'7' pick GET POST PATCH DELETE PUT HEAD
//                                              OPTIONS get)
//   byte 1   path:   kPaths[b % 32] for 0..23  ('`' = 0, 'a'..'w' = 1..23); 24..31 (e.g. 'x')
//            means a raw path follows, up to the next '\n'
//   byte 2   auth:   b % 4 = 0 valid key, 1 none, 2 unknown key, 3 revoked key ('0'..'3');
//            b & 4 ('4'..'7') also sends If-None-Match with the organization's current ETag
//   then     the query string ("limit=5&status=ended"), up to the next '\n' (it starts right
//            after byte 2, or after the raw path's '\n')
//   rest     the body, as sent (normally a JSON object)
//
// Invariants: handle() never throws; the status is one the API documents; every error body is a
// JSON object with string "error", "message" and "code" that agree with the error table; a JSON
// response parses; a rejected request changes nothing (the organization's revision stays); no
// response ever contains a secret's plaintext or a sealed value.
//
// Secrets: seed bodies send passwords and secrets containing the marker FUZZSECRET. Before a
// request is sent, the marker is rewritten wherever it is not a secret's value (path, query, keys,
// names, free-form objects...), and so is the sealed-value prefix "tlsb1:" everywhere; so any
// response containing either one leaks a secret. The fixed objects' secrets contain the marker
// too.
//
// State: after every request that changed the organization (its revision moved), the store is put
// back to the fixed objects, so each input runs against the same state and a crash replays.
// TL_FUZZ_VERBOSE=1 prints every request and its answer.

#include "api/api_context.hpp"
#include "api/api_keys.hpp"
#include "api/assistant_document.hpp"
#include "common/log.hpp"
#include "fuzz_check.hpp"
#include "secret_fields.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

namespace {

namespace json = boost::json;
namespace api = tl::api;
namespace store = tl::store;

constexpr std::string_view kMarker = "FUZZSECRET";
constexpr std::string_view kMarkerReplacement = "FUZZ_SECRET";
constexpr std::string_view kSealedPrefix = "tlsb1:";
constexpr std::string_view kSealedReplacement = "tlsb1_";

constexpr std::string_view kTrunkId = "7a0e0000-0000-4000-8000-000000000001";
constexpr std::string_view kAssistantId = "7a0e0000-0000-4000-8000-000000000002";
constexpr std::string_view kNumberId = "7a0e0000-0000-4000-8000-000000000003";
constexpr std::string_view kLiveCallId = "7a0e0000-0000-4000-8000-000000000004";
constexpr std::string_view kEndedCallId = "7a0e0000-0000-4000-8000-000000000005";
constexpr std::string_view kOtherOrgTrunkId = "7a0e0000-0000-4000-8000-000000000006";
constexpr std::string_view kUnknownId = "7a0e0000-0000-4000-8000-0000000000ff";

constexpr std::array<std::string_view, 8> kMethods = {"GET", "POST",    "PATCH", "DELETE",
                                                      "PUT", "OPTIONS", "HEAD",  "get"};

const std::array<std::string, 24> kPaths = {
    "/health",
    "/metrics",
    "/api/v1/openapi.json",
    "/api/v1/organizations",
    "/api/v1/sip-trunks",
    "/api/v1/sip-trunks/" + std::string(kTrunkId),
    "/api/v1/sip-trunks/" + std::string(kUnknownId),
    "/api/v1/sip-trunks/not-a-uuid",
    "/api/v1/numbers",
    "/api/v1/numbers/" + std::string(kNumberId),
    "/api/v1/numbers/" + std::string(kUnknownId),
    "/api/v1/numbers/%00",
    "/api/v1/assistants",
    "/api/v1/assistants/" + std::string(kAssistantId),
    "/api/v1/assistants/" + std::string(kUnknownId),
    "/api/v1/assistants/" + std::string(kAssistantId) + "x",
    "/api/v1/calls",
    "/api/v1/calls/" + std::string(kLiveCallId),
    "/api/v1/calls/" + std::string(kEndedCallId),
    "/api/v1/calls/" + std::string(kLiveCallId) + "/control",
    "/api/v1/calls/" + std::string(kEndedCallId) + "/control",
    "/api/v1/calls/" + std::string(kUnknownId) + "/control",
    "/api/v1/sip-trunks/" + std::string(kOtherOrgTrunkId),
    "/api/v1/calls/not-a-uuid/control",
};

constexpr std::array<int, 8> kExpectedStatuses = {200, 201, 304, 400, 401, 404, 405, 409};

// The assistant every input starts from: secrets in all three sealed places.
constexpr std::string_view kBaselineAssistant = R"({
  "name": "Support Assistant",
  "first_message": "Welcome to Acme support, how can I help you?",
  "webhook_url": "https://hooks.example.com/trunkline",
  "webhook_secret": "FUZZSECRET-webhook",
  "metadata": {"team": "support"},
  "llm_config": {
    "provider": "openai",
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "You are a support agent for Acme."}],
    "tools": [
      {"type": "transfer_call", "destinations": [
        {"type": "number", "number": "+31612345678", "description": "Human support"},
        {"type": "sip", "sip_uri": "sip:support@pbx.example.com", "username": "trunkline",
         "password": "FUZZSECRET-destination", "description": "PBX queue"}]},
      {"type": "end_call"},
      {"name": "lookup_order", "description": "Finds an order",
       "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
       "server": {"url": "https://tools.example.com/orders", "secret": "FUZZSECRET-tool"}}
    ]
  }
})";

bool is_target_char(unsigned char c) {
    // Beast's request-target characters (http/detail/basic_parser.ipp is_pathchar): what a real
    // request can carry to the router.
    return c > 0x20 && c != 0x7f;
}

// Rewrites every `from` in `text`, again until none is left (a rewrite may form a new one).
bool rewrite(std::string& text, std::string_view from, std::string_view to) {
    bool changed = false;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from)) {
        text.replace(at, from.size(), to);
        changed = true;
    }
    return changed;
}

bool sanitize_text(std::string& text, bool is_secret) {
    bool changed = rewrite(text, kSealedPrefix, kSealedReplacement);
    if (!is_secret) changed |= rewrite(text, kMarker, kMarkerReplacement);
    return changed;
}

// Sanitizes `value` in place; `free_form` says whether it sits in an object stored verbatim.
bool sanitize_json(json::value& value, bool free_form) {
    bool changed = false;
    if (value.is_string()) {
        std::string text(value.get_string());
        if (sanitize_text(text, false)) {
            value = text;
            changed = true;
        }
    } else if (value.is_array()) {
        for (auto& item : value.get_array()) changed |= sanitize_json(item, free_form);
    } else if (value.is_object()) {
        json::object out;
        for (auto& [key, child] : value.get_object()) {
            std::string name(key);
            changed |= sanitize_text(name, false);
            const bool child_free_form = free_form || tl::fuzz::is_free_form_key(name);
            if (!child_free_form && tl::fuzz::is_secret_key(name) && child.is_string()) {
                std::string secret(child.get_string());
                if (sanitize_text(secret, true)) {
                    child = secret;
                    changed = true;
                }
            } else {
                changed |= sanitize_json(child, child_free_form);
            }
            out[name] = std::move(child);
        }
        value = std::move(out);
    }
    return changed;
}

std::string sanitized_body(std::string body) {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec) {
        sanitize_text(body, false);
        return body;
    }
    return sanitize_json(value, false) ? json::serialize(value) : body;
}

// What the HTTP server does with the request target (http_server.cpp parse_query).
std::map<std::string, std::string> parse_query(std::string_view target) {
    std::map<std::string, std::string> out;
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return out;
    for (const auto& param : url->params()) {
        std::string key(param.key);
        std::string value(param.value);
        sanitize_text(key, false);
        sanitize_text(value, false);
        out.emplace(std::move(key), std::move(value));
    }
    return out;
}

// A temp SQLite store, secret box and router with every route, like api::testing::Fixture but
// built with brace initialisation (test_support.hpp needs C++20 parenthesised aggregate
// initialisation, which clang 14 lacks) and without rate limits, which would otherwise turn every
// input after the first thousand into a 429.
class Harness {
public:
    Harness()
        : dir_(make_dir()),
          store_(store::open_sqlite_store(dir_ / "fuzz.db").value()),
          secrets_(store::SecretBox::from_keys(
                       {store::SecretBox::parse_key(std::string(64, '7')).value()})
                       .value()),
          authenticator_(*store_),
          ctx_{*store_, secrets_, control_limiter_, metrics_, "sip:127.0.0.1:5060", "fuzz", "{}"},
          router_(authenticator_, rate_limiter_, metrics_) {
        // One access-log line per input would drown the fuzzer's output (and slow it down).
        tl::log::init(tl::log::Format::kText, "error");
        api::add_all_routes(router_, ctx_);
        seed();
    }
    ~Harness() {
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    api::Router& router() { return router_; }

    std::string authorization(unsigned choice) const {
        switch (choice % 4) {
            case 0: return "Bearer " + key_;
            case 1: return {};
            case 2: return "Bearer tl_live_0000000000000000000000000000000000000000000";
            default: return "Bearer " + revoked_key_;
        }
    }

    long long revision() { return store_->get_organization(org_id_).value().revision; }

    // Puts the organization back to the fixed objects after a request changed it.
    void restore() {
        for (const auto& n : store_->list_numbers(org_id_).value()) {
            if (n.id != kNumberId) check(store_->delete_number(org_id_, n.id), "delete number");
        }
        for (const auto& t : store_->list_trunks(org_id_).value()) {
            if (t.id != kTrunkId) check(store_->delete_trunk(org_id_, t.id), "delete trunk");
        }
        for (const auto& a : store_->list_assistants(org_id_).value()) {
            if (a.id != kAssistantId) {
                check(store_->delete_assistant(org_id_, a.id), "delete assistant");
            }
        }
        if (store_->get_trunk(org_id_, trunk_.id)) {
            check(store_->update_trunk(trunk_), "restore trunk");
        } else {
            check(store_->create_trunk(trunk_), "re-create trunk");
        }
        if (store_->get_assistant(org_id_, assistant_.id)) {
            check(store_->update_assistant(assistant_), "restore assistant");
        } else {
            check(store_->create_assistant(assistant_), "re-create assistant");
        }
        if (store_->get_number(org_id_, number_.id)) {
            check(store_->update_number(number_), "restore number");
        } else {
            check(store_->create_number(number_), "re-create number");
        }
    }

private:
    static std::filesystem::path make_dir() {
        // tmpfs when there is one: the store syncs its WAL on every write.
        const bool shm = std::filesystem::is_directory("/dev/shm");
        std::string pattern = shm ? "/dev/shm/tl-fuzz-api-XXXXXX" : "/tmp/tl-fuzz-api-XXXXXX";
        const char* dir = ::mkdtemp(pattern.data());
        if (dir == nullptr) {
            std::perror("mkdtemp");
            std::abort();
        }
        return dir;
    }

    static void check(const tl::Status& status, std::string_view what) {
        TL_FUZZ_CHECK(status.has_value(), std::string(what) + ": " + status.error().message);
    }

    void seed() {
        const auto org = api::ensure_organization(*store_, "fuzz").value();
        org_id_ = org.id;
        key_ = api::issue_api_key(*store_, org_id_).value().key;
        const auto revoked = api::issue_api_key(*store_, org_id_).value();
        revoked_key_ = revoked.key;
        check(store_->revoke_api_key(revoked.record.id, "2025-01-01T00:00:00.000Z"), "revoke");
        const std::string created = "2025-12-13T10:00:00.000Z";

        trunk_.id = kTrunkId;
        trunk_.org_id = org_id_;
        trunk_.name = "Office PBX";
        trunk_.host = "pbx.example.com";
        trunk_.username = "trunkline";
        trunk_.password_sealed = secrets_.seal("FUZZSECRET-trunk");
        trunk_.direction = "both";
        trunk_.inbound_username = "tlfuzzinbound";
        trunk_.inbound_password_sealed = secrets_.seal("FUZZSECRET-inbound");
        trunk_.allowed_addresses = {"203.0.113.0/24"};
        trunk_.numbers = {"+31850835037"};
        trunk_.headers = {{"X-Customer", "acme"}};
        trunk_.created_at = trunk_.updated_at = created;
        check(store_->create_trunk(trunk_), "trunk");

        auto body = json::parse(kBaselineAssistant).as_object();
        auto doc = api::merge_assistant_document(body, {}, true, secrets_).value();
        assistant_.id = kAssistantId;
        assistant_.org_id = org_id_;
        assistant_.name = "Support Assistant";
        doc.erase("name");
        doc.erase("is_active");
        assistant_.config_json = json::serialize(doc);
        assistant_.created_at = assistant_.updated_at = created;
        check(store_->create_assistant(assistant_), "assistant");

        number_.id = kNumberId;
        number_.org_id = org_id_;
        number_.phone_number = "+31850835037";
        number_.name = "Main Support Line";
        number_.assistant_id = std::string(kAssistantId);
        number_.transfer_trunk_id = std::string(kTrunkId);
        number_.created_at = number_.updated_at = created;
        check(store_->create_number(number_), "number");

        store::Call live;
        live.id = kLiveCallId;
        live.org_id = org_id_;
        live.status = "in-progress";
        live.caller_phone = "+31612345678";
        live.assistant_phone = "+31850835037";
        live.assistant_id = std::string(kAssistantId);
        live.number_id = std::string(kNumberId);
        live.started_at = created;
        live.created_at = live.updated_at = created;
        check(store_->create_call(live), "live call");
        store::Call ended = live;
        ended.id = kEndedCallId;
        ended.status = "ended";
        ended.end_reason = "customer-ended-call";
        ended.ended_at = "2025-12-13T10:03:00.000Z";
        ended.duration_seconds = 180;
        ended.messages_json =
            R"([{"role":"assistant","content":"Welcome"},{"role":"user","content":"Hi"}])";
        check(store_->create_call(ended), "ended call");

        // Another organization's trunk: must look exactly like a missing one.
        const auto other = api::ensure_organization(*store_, "other").value();
        store::SipTrunk foreign = trunk_;
        foreign.id = kOtherOrgTrunkId;
        foreign.org_id = other.id;
        foreign.password_sealed = secrets_.seal("FUZZSECRET-other-org");
        foreign.inbound_username = "tlfuzzother";
        check(store_->create_trunk(foreign), "other org trunk");
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    store::SecretBox secrets_;
    tl::metrics::Registry metrics_;
    api::Authenticator authenticator_;
    api::RateLimiter rate_limiter_{1'000'000'000, std::chrono::seconds(60)};
    api::RateLimiter control_limiter_{1'000'000'000, std::chrono::seconds(60)};
    api::ApiContext ctx_;
    api::Router router_;
    std::string org_id_;
    std::string key_;
    std::string revoked_key_;
    store::SipTrunk trunk_;
    store::Assistant assistant_;
    store::PhoneNumber number_;
};

// TL_FUZZ_VERBOSE=1 prints each request and the start of its answer (for writing seeds).
bool verbose() {
    static const bool on = std::getenv("TL_FUZZ_VERBOSE") != nullptr;
    return on;
}

Harness& harness() {
    static Harness h;
    return h;
}

// Splits the input as the header comment describes.
struct Input {
    std::string_view rest;

    bool empty() const { return rest.empty(); }
    unsigned char byte() {
        if (rest.empty()) return 0;
        const auto b = static_cast<unsigned char>(rest.front());
        rest.remove_prefix(1);
        return b;
    }
    std::string_view line() {
        const auto nl = rest.find('\n');
        const auto out = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        return out;
    }
};

void check_response(const api::Request& request, const api::Response& response) {
    const auto context = std::string(request.method + " " + request.path + " " + request.body) +
                         " -> " + std::to_string(response.status) + " " +
                         std::string(response.body);
    bool expected = false;
    for (const int s : kExpectedStatuses) expected |= response.status == s;
    TL_FUZZ_CHECK(expected, context);

    if (response.content_type == "application/json" && response.status != 304) {
        boost::system::error_code ec;
        const auto body = json::parse(response.body, ec);
        TL_FUZZ_CHECK(!ec, context);
        if (response.status >= 400) {
            TL_FUZZ_CHECK(body.is_object(), context);
            const auto& o = body.get_object();
            for (const auto* field : {"error", "message", "code"}) {
                const auto* v = o.if_contains(field);
                TL_FUZZ_CHECK(v != nullptr && v->is_string() && !v->get_string().empty(), context);
            }
            bool known = false;
            for (const auto& info : tl::all_error_infos()) {
                if (info.code == o.at("code").get_string()) {
                    known = info.http_status == response.status &&
                            info.title == o.at("error").get_string();
                }
            }
            TL_FUZZ_CHECK(known, context);
        }
    }
    TL_FUZZ_CHECK(response.body.find(kMarker) == std::string::npos, "secret leaked: " + context);
    TL_FUZZ_CHECK(response.body.find(kSealedPrefix) == std::string::npos,
                  "sealed value leaked: " + context);
    for (const auto& [name, value] : response.headers) {
        TL_FUZZ_CHECK(value.find(kMarker) == std::string::npos, "secret leaked in header: " + context);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto& h = harness();
    Input in{std::string_view(reinterpret_cast<const char*>(data), size)};

    api::Request request;
    request.request_id = "fuzz";
    request.method = std::string(kMethods[in.byte() % kMethods.size()]);
    const unsigned path_choice = in.byte() % 32;
    const unsigned auth_choice = in.byte();
    std::string path;
    if (path_choice < kPaths.size()) {
        path = kPaths[path_choice];
    } else {
        const auto raw = in.line();
        for (const char c : raw) {
            if (!is_target_char(static_cast<unsigned char>(c))) break;
            path += c;
        }
    }
    const auto query = in.line();
    std::string target = path;
    if (!query.empty()) {
        for (const char c : query) {
            if (!is_target_char(static_cast<unsigned char>(c))) break;
            if (target.size() == path.size()) target += '?';
            target += c;
        }
    }
    request.path = target.substr(0, target.find('?'));
    sanitize_text(request.path, false);
    request.query = parse_query(target);
    request.body = sanitized_body(std::string(in.rest));
    if (auto auth = h.authorization(auth_choice); !auth.empty()) {
        request.headers.emplace_back("authorization", std::move(auth));
    }
    request.headers.emplace_back("content-type", "application/json");

    const long long revision_before = h.revision();
    if (auth_choice & 4) {
        request.headers.emplace_back("if-none-match",
                                     "\"r" + std::to_string(revision_before) + "\"");
    }

    api::Response response;
    try {
        response = h.router().handle(request);
    } catch (const std::exception& e) {
        TL_FUZZ_CHECK(false, std::string("Router::handle threw: ") + e.what());
    } catch (...) {
        TL_FUZZ_CHECK(false, "Router::handle threw a non-std exception");
    }
    if (verbose()) {
        std::fprintf(stderr, "%s %s -> %d %.200s\n", request.method.c_str(), request.path.c_str(),
                     response.status, response.body.c_str());
    }
    check_response(request, response);

    const long long revision_after = h.revision();
    if (revision_after != revision_before) {
        // Only an accepted write may change anything (api.md: "A rejected request changes
        // nothing").
        TL_FUZZ_CHECK((response.status == 200 || response.status == 201) && request.method != "GET",
                      std::string(request.method + " " + request.path + " " + request.body) + " -> " +
                          std::to_string(response.status) + " changed the organization");
        h.restore();
    }
    return 0;
}
