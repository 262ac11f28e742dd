#pragma once
// `trunkline serve`: composition root of the running server.

#include <string>

namespace tl::app {

struct ServeOptions {
    std::string data_dir = "./var";
    std::string api_listen = "127.0.0.1:8080";
    std::string sip_listen = "0.0.0.0:5060";
    std::string rtp_ports = "10000-20000";
    std::string public_ip;
    long long api_rate_limit = 100;  // requests per minute per API key
    std::string log_format = "text";
    std::string log_level = "info";
    bool demo = false;
    double shutdown_timeout_seconds = 10;
    double rtp_timeout_seconds = 60;
    int max_concurrent_calls = 1000;
    int max_calls_per_second = 200;
    int answer_delay_ms = 0;
    bool sip_digest_sha256 = false;
    double transfer_timeout_seconds = 30;
    bool enable_test_hooks = false;
    std::string sip_user_agent = "trunkline";  // User-Agent/Server: no version by default
    double sip_tcp_idle_timeout_seconds = 30;   // idle or stuck (incomplete message) TCP peers
    int sip_tcp_max_per_source = 32;            // TCP connections to the SIP port per address
    int sip_tcp_max_connections = 0;            // in total; 0: half the descriptor limit
    std::string webhook_ca_file;  // PEM CAs trusted for https:// webhooks besides the system's
    long long webhook_retry_base_ms = 1000;   // back-off before the first retry at most; doubles
    long long webhook_retry_max_ms = 600000;  // cap of the back-off
    int sip_capture_retention_days = 7;       // calls' SIP captures are purged after this
    int recording_retention_days = 30;        // calls' recordings are purged after this
    std::string hep_endpoint;                 // HOST:PORT of a Homer (HEP v3) collector; none: off
    long long hep_id = 2001;                  // the capture agent id HEP packets carry
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_serve(const ServeOptions& options);

}  // namespace tl::app
