#include "app/commands.hpp"

#include "api/api_keys.hpp"
#include "app/config_file.hpp"
#include "app/data_dir.hpp"
#include "app/diagnose_commands.hpp"
#include "app/phone_command.hpp"
#include "app/serve.hpp"
#include "common/clock.hpp"
#include "sip/stack/stack_version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <map>

namespace tl::app {
namespace {

constexpr const char* kDataDirEnv = "TRUNKLINE_DATA_DIR";

int keys_create(const std::string& data_dir, const std::string& org_name) {
    auto store = open_data_dir_store(data_dir);
    if (!store) {
        std::cerr << "trunkline: " << store.error().message << "\n";
        return 1;
    }
    auto org = api::ensure_organization(**store, org_name);
    if (!org) {
        std::cerr << "trunkline: " << org.error().message << "\n";
        return 1;
    }
    auto key = api::issue_api_key(**store, org->id);
    if (!key) {
        std::cerr << "trunkline: " << key.error().message << "\n";
        return 1;
    }
    std::cout << key->key << std::endl;
    return 0;
}

int keys_list(const std::string& data_dir, const std::string& org_name) {
    auto store = open_data_dir_store(data_dir);
    if (!store) {
        std::cerr << "trunkline: " << store.error().message << "\n";
        return 1;
    }
    auto orgs = (*store)->list_organizations();
    if (!orgs) {
        std::cerr << "trunkline: " << orgs.error().message << "\n";
        return 1;
    }
    std::map<std::string, std::string> org_names;
    std::optional<std::string> org_filter;
    for (const auto& o : *orgs) {
        org_names[o.id] = o.name;
        if (o.name == org_name) org_filter = o.id;
    }
    if (!org_name.empty() && !org_filter) {
        std::cerr << "trunkline: no organization named '" << org_name << "'\n";
        return 1;
    }
    auto keys = (*store)->list_api_keys(org_filter);
    if (!keys) {
        std::cerr << "trunkline: " << keys.error().message << "\n";
        return 1;
    }
    std::cout << fmt::format("{:<36}  {:<20}  {:<14}  {:<24}  {}\n", "ID", "ORGANIZATION",
                             "PREFIX", "CREATED", "STATUS");
    for (const auto& k : *keys) {
        std::cout << fmt::format("{:<36}  {:<20}  {:<14}  {:<24}  {}\n", k.id, org_names[k.org_id],
                                 k.prefix, k.created_at,
                                 k.revoked_at ? "revoked " + *k.revoked_at : "active");
    }
    return 0;
}

int keys_revoke(const std::string& data_dir, const std::string& id_or_prefix) {
    auto store = open_data_dir_store(data_dir);
    if (!store) {
        std::cerr << "trunkline: " << store.error().message << "\n";
        return 1;
    }
    if (auto st = (*store)->revoke_api_key(id_or_prefix, now_iso8601()); !st) {
        std::cerr << "trunkline: " << st.error().message << "\n";
        return 1;
    }
    std::cout << "revoked " << id_or_prefix << std::endl;
    return 0;
}

int migrate(const std::string& data_dir) {
    auto store = open_data_dir_store(data_dir);
    if (!store) {
        std::cerr << "trunkline: " << store.error().message << "\n";
        return 1;
    }
    std::cout << "schema version " << (*store)->schema_version() << std::endl;
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"Trunkline: self-hosted voice-AI telephony (SIP trunks, numbers, assistants)",
                 "trunkline"};
    app.set_version_flag("--version", std::string("trunkline ") + TL_VERSION + " (sofia-sip " +
                                          std::string(sip::stack_version()) + ")");
    app.require_subcommand(1);

    ServeOptions serve;
    auto* serve_cmd = app.add_subcommand("serve", "Run the API (and, later, SIP and media) server");
    std::string config_path;
    serve_cmd->add_option("--config", config_path, "TOML file with the flags below as keys")
        ->envname("TRUNKLINE_CONFIG")
        ->check(CLI::ExistingFile);
    serve_cmd->add_option("--data-dir", serve.data_dir, "Data directory (database, master key)")
        ->envname(kDataDirEnv)
        ->capture_default_str();
    serve_cmd->add_option("--api-listen", serve.api_listen, "API address HOST:PORT (port 0: any)")
        ->envname("TRUNKLINE_API_LISTEN")
        ->capture_default_str();
    serve_cmd->add_option("--sip-listen", serve.sip_listen, "SIP address HOST:PORT")
        ->envname("TRUNKLINE_SIP_LISTEN")
        ->capture_default_str();
    serve_cmd->add_option("--rtp-ports", serve.rtp_ports, "RTP port range LO-HI")
        ->envname("TRUNKLINE_RTP_PORTS")
        ->capture_default_str();
    serve_cmd->add_option("--public-ip", serve.public_ip, "Address announced in SDP and Contact")
        ->envname("TRUNKLINE_PUBLIC_IP");
    serve_cmd->add_option("--api-rate-limit", serve.api_rate_limit, "API requests per minute per key")
        ->envname("TRUNKLINE_API_RATE_LIMIT")
        ->capture_default_str();
    serve_cmd->add_option("--log-format", serve.log_format, "text or json")
        ->envname("TRUNKLINE_LOG_FORMAT")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    serve_cmd->add_option("--log-level", serve.log_level, "trace, debug, info, warn, error")
        ->envname("TRUNKLINE_LOG_LEVEL")
        ->capture_default_str();
    serve_cmd->add_flag("--demo", serve.demo,
                        "Create organization 'demo' and print a fresh API key and curl commands")
        ->envname("TRUNKLINE_DEMO");
    serve_cmd->add_option("--rtp-timeout", serve.rtp_timeout_seconds,
                          "Seconds without received RTP before the call is ended (BYE)")
        ->envname("TRUNKLINE_RTP_TIMEOUT")
        ->check(CLI::Range(1.0, 3600.0))
        ->capture_default_str();
    serve_cmd->add_option("--max-calls", serve.max_concurrent_calls,
                          "Concurrent calls; beyond it new INVITEs get 503 with Retry-After")
        ->envname("TRUNKLINE_MAX_CALLS")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    serve_cmd->add_option("--max-cps", serve.max_calls_per_second,
                          "New calls per second; beyond it INVITEs get 503 with Retry-After")
        ->envname("TRUNKLINE_MAX_CPS")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    serve_cmd->add_option("--answer-delay", serve.answer_delay_ms,
                          "Milliseconds to ring (180 Ringing) before answering a call")
        ->envname("TRUNKLINE_ANSWER_DELAY")
        ->check(CLI::Range(0, 60000))
        ->capture_default_str();
    serve_cmd->add_option("--transfer-timeout", serve.transfer_timeout_seconds,
                          "Seconds a transfer destination may ring before the transfer fails")
        ->envname("TRUNKLINE_TRANSFER_TIMEOUT")
        ->check(CLI::Range(1.0, 300.0))
        ->capture_default_str();
    serve_cmd->add_flag("--enable-test-hooks", serve.enable_test_hooks,
                        "Test-suite entry points (e.g. the transfer_call tool); never in production");
    serve_cmd->add_option("--sip-user-agent", serve.sip_user_agent,
                          "User-Agent and Server header value (default: no version, so scanners "
                          "cannot fingerprint the release)")
        ->envname("TRUNKLINE_SIP_USER_AGENT")
        ->capture_default_str();
    serve_cmd->add_option("--sip-tcp-idle-timeout", serve.sip_tcp_idle_timeout_seconds,
                          "Seconds before an idle SIP TCP connection, or one stuck on an "
                          "incomplete or unparseable message, is closed")
        ->envname("TRUNKLINE_SIP_TCP_IDLE_TIMEOUT")
        ->check(CLI::Range(1.0, 3600.0))
        ->capture_default_str();
    serve_cmd->add_option("--sip-tcp-max-per-source", serve.sip_tcp_max_per_source,
                          "TCP connections one address may hold to the SIP port; the newest "
                          "beyond it are closed")
        ->envname("TRUNKLINE_SIP_TCP_MAX_PER_SOURCE")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    serve_cmd->add_option("--sip-tcp-max-connections", serve.sip_tcp_max_connections,
                          "TCP connections to the SIP port in total (0: half the process's "
                          "descriptor limit)")
        ->envname("TRUNKLINE_SIP_TCP_MAX_CONNECTIONS")
        ->check(CLI::Range(0, 10000000))
        ->capture_default_str();
    serve_cmd->add_flag("--sip-digest-sha256", serve.sip_digest_sha256,
                        "Also challenge inbound INVITEs with SHA-256 digest (RFC 8760)")
        ->envname("TRUNKLINE_SIP_DIGEST_SHA256");
    serve_cmd->add_option("--webhook-ca-file", serve.webhook_ca_file,
                          "PEM CA certificates trusted for https:// webhooks, besides the system's")
        ->envname("TRUNKLINE_WEBHOOK_CA_FILE")
        ->check(CLI::ExistingFile);
    serve_cmd->add_option("--webhook-retry-base-ms", serve.webhook_retry_base_ms,
                          "Webhook retries: longest first back-off in ms, doubled per attempt")
        ->envname("TRUNKLINE_WEBHOOK_RETRY_BASE_MS")
        ->check(CLI::Range(1LL, 3'600'000LL))
        ->capture_default_str();
    serve_cmd->add_option("--webhook-retry-max-ms", serve.webhook_retry_max_ms,
                          "Webhook retries: cap of the back-off in ms")
        ->envname("TRUNKLINE_WEBHOOK_RETRY_MAX_MS")
        ->check(CLI::Range(1LL, 86'400'000LL))
        ->capture_default_str();
    serve_cmd->add_option("--sip-capture-retention-days", serve.sip_capture_retention_days,
                          "Days a call's SIP capture (GET /calls/{id}/sip) is kept")
        ->envname("TRUNKLINE_SIP_CAPTURE_RETENTION_DAYS")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
    serve_cmd->add_option("--recording-retention-days", serve.recording_retention_days,
                          "Days a call's recording (GET /calls/{id}/recording) is kept")
        ->envname("TRUNKLINE_RECORDING_RETENTION_DAYS")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
    serve_cmd->add_option("--hep-endpoint", serve.hep_endpoint,
                          "Also send every SIP message to a Homer collector (HEP v3 over UDP), "
                          "HOST:PORT")
        ->envname("TRUNKLINE_HEP_ENDPOINT");
    serve_cmd->add_option("--hep-id", serve.hep_id, "Capture agent id in HEP packets")
        ->envname("TRUNKLINE_HEP_ID")
        ->check(CLI::Range(0LL, 4294967295LL))
        ->capture_default_str();
    serve_cmd->add_option("--shutdown-timeout", serve.shutdown_timeout_seconds,
                          "Seconds in-flight requests get after SIGTERM")
        ->envname("TRUNKLINE_SHUTDOWN_TIMEOUT")
        ->capture_default_str();

    std::string data_dir = "./var";
    std::string org_name;
    std::string key_ref;
    auto* keys_cmd = app.add_subcommand("keys", "Manage API keys");
    keys_cmd->require_subcommand(1);
    auto* keys_create_cmd = keys_cmd->add_subcommand("create", "Create an API key; prints it alone");
    keys_create_cmd->add_option("--data-dir", data_dir, "Data directory")->envname(kDataDirEnv);
    keys_create_cmd->add_option("--org", org_name, "Organization name (created when missing)")
        ->required();
    auto* keys_list_cmd = keys_cmd->add_subcommand("list", "List API keys (never the keys)");
    keys_list_cmd->add_option("--data-dir", data_dir, "Data directory")->envname(kDataDirEnv);
    keys_list_cmd->add_option("--org", org_name, "Only this organization's keys");
    auto* keys_revoke_cmd = keys_cmd->add_subcommand("revoke", "Revoke an API key");
    keys_revoke_cmd->add_option("--data-dir", data_dir, "Data directory")->envname(kDataDirEnv);
    keys_revoke_cmd->add_option("key", key_ref, "Key id or prefix (from keys list)")->required();

    PhoneOptions phone;
    auto* call_cmd = app.add_subcommand(
        "call",
        "Test phone: place a call (or take one with --answer), play a WAV or a sentence into it, "
        "record what is heard");
    auto* target_opt = call_cmd->add_option(
        "target", phone.target, "SIP URI, e.g. sip:+31850835037@127.0.0.1:5060");
    call_cmd->add_option("--play", phone.play, "WAV file to send (16-bit PCM)")
        ->check(CLI::ExistingFile);
    call_cmd->add_option("--say", phone.say,
                         "Text to speak (embedded espeak-ng) once the call is up, before --play; "
                         "repeat it for several sentences, spoken 3 s apart");
    auto* answer_flag = call_cmd->add_flag(
        "--answer", phone.answer,
        "Take one call instead of placing one: listen on --listen, answer the first INVITE "
        "(default line: \"This is the demo agent, how can I help?\")");
    call_cmd->add_option("--listen", phone.listen, "With --answer: where to listen, HOST:PORT")
        ->capture_default_str()
        ->needs(answer_flag);
    call_cmd->add_option("--wait", phone.wait_seconds,
                         "With --answer: seconds to wait for the call (0: until one comes)")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str()
        ->needs(answer_flag);
    target_opt->excludes(answer_flag);
    call_cmd->add_option("--record", phone.record, "WAV file to write what was heard (8 kHz)");
    call_cmd->add_option("--header", phone.headers, "Extra header 'Name: value' (repeatable)");
    call_cmd->add_option("--user", phone.user, "Digest username for 401/407 challenges");
    call_cmd->add_option("--password", phone.password, "Digest password");
    call_cmd->add_option("--from", phone.from_user, "Caller user part (number)")
        ->capture_default_str();
    call_cmd->add_option("--local-ip", phone.local_ip, "Local address (default: route to target)");
    call_cmd->add_option("--duration", phone.duration_seconds, "Seconds before hanging up")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();

    std::string object_id;
    std::string capture_format = "ladder";
    bool json_output = false;
    auto* calls_cmd = app.add_subcommand("calls", "Look into calls");
    calls_cmd->require_subcommand(1);
    auto* calls_sip_cmd =
        calls_cmd->add_subcommand("sip", "Print a finished call's SIP messages (a ladder by default)");
    calls_sip_cmd->add_option("call-id", object_id, "The call's id")->required();
    calls_sip_cmd->add_option("--format", capture_format, "ladder, json or pcap")
        ->check(CLI::IsMember({"ladder", "json", "pcap"}))
        ->capture_default_str();
    calls_sip_cmd->add_option("--data-dir", data_dir, "Data directory")->envname(kDataDirEnv);
    auto* trunk_cmd = app.add_subcommand("trunk", "Look into SIP trunks");
    trunk_cmd->require_subcommand(1);
    auto* trunk_test_cmd = trunk_cmd->add_subcommand(
        "test", "Test a trunk: DNS, connection, OPTIONS, credentials (exit 1 when it fails)");
    trunk_test_cmd->add_option("trunk-id", object_id, "The trunk's id")->required();
    trunk_test_cmd->add_flag("--json", json_output, "Print the report as JSON");
    trunk_test_cmd->add_option("--data-dir", data_dir, "Data directory")->envname(kDataDirEnv);

    auto* assistants_cmd = app.add_subcommand("assistants", "Look into assistants");
    assistants_cmd->require_subcommand(1);
    auto* assistants_check_cmd = assistants_cmd->add_subcommand(
        "check",
        "Send each provider of an assistant a real, tiny request (exit 1 when one fails); keys: "
        "the organization's BYOK key, else this shell's TRUNKLINE_<PROVIDER>_API_KEY");
    assistants_check_cmd->add_option("assistant-id", object_id, "The assistant's id")->required();
    assistants_check_cmd->add_flag("--json", json_output, "Print the report as JSON");
    assistants_check_cmd->add_option("--data-dir", data_dir, "Data directory")
        ->envname(kDataDirEnv);

    auto* migrate_cmd = app.add_subcommand("migrate", "Apply database migrations and exit");
    migrate_cmd->add_option("--data-dir", data_dir, "Data directory")->envname(kDataDirEnv);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (serve_cmd->parsed()) {
        if (!config_path.empty()) {
            if (auto st = apply_config_file(*serve_cmd, config_path); !st) {
                std::cerr << "trunkline: " << st.error().message << "\n";
                return 2;
            }
        }
        return run_serve(serve);
    }
    if (keys_create_cmd->parsed()) return keys_create(data_dir, org_name);
    if (keys_list_cmd->parsed()) return keys_list(data_dir, org_name);
    if (keys_revoke_cmd->parsed()) return keys_revoke(data_dir, key_ref);
    if (migrate_cmd->parsed()) return migrate(data_dir);
    if (calls_sip_cmd->parsed()) return calls_sip(data_dir, object_id, capture_format);
    if (trunk_test_cmd->parsed()) return trunk_test(data_dir, object_id, json_output);
    if (assistants_check_cmd->parsed()) return assistant_check(data_dir, object_id, json_output);
    if (call_cmd->parsed()) {
        if (!phone.answer && phone.target.empty()) {
            std::cerr << "trunkline call: a target SIP URI is required (or --answer)\n";
            return 2;
        }
        return run_phone(phone);
    }
    return 2;
}

}  // namespace tl::app
