#pragma once
// One real, tiny request per provider of an assistant (GET /assistants/{id}/check): what a call
// would use, asked the cheapest question that still goes through the same endpoint, key, model
// and voice a call uses. Embedded engines are checked locally (the recogniser's model loads and
// decodes, espeak-ng speaks a word). Each probe is bounded by its `timeout` (the provider's own
// deadline: connect, TLS and answer; one retry after a refused connection or a 5xx, as in calls).
//
// Thread-safety: every probe blocks the calling thread; they may run concurrently. The network
// probes do their I/O on `io`, which some other thread must run: never call them on one of its
// threads (the speech probe would wait on itself).

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tl::api {

enum class ProbeStatus { kOk, kAuthFailed, kUnreachable, kNotConfigured };

// "ok", "auth_failed", "unreachable", "not_configured" (the API's values).
std::string_view to_string(ProbeStatus status);

struct ProbeResult {
    std::string provider;  // as configured; "" when the slot has no provider
    ProbeStatus status = ProbeStatus::kNotConfigured;
    std::string message;  // never holds the key
};

// A provider's failure as a probe status: a rejected key (401/403) is auth_failed; anything else
// (DNS, refused connection, timeout, TLS, 5xx, 429, a refused model or request) means a call
// could not use the provider now: unreachable, with the provider's reason in the message.
ProbeStatus probe_status_of(const Error& error);

struct NetworkProbe {
    boost::asio::any_io_executor io;
    std::string api_key;  // "" sends no Authorization header (a local server)
    std::chrono::milliseconds timeout{5000};
};

// `config` is an OpenAI-compatible slot's config (provider, model, base_url, ...).
ProbeResult probe_network_llm(const boost::json::object& llm_config, const NetworkProbe& probe);
ProbeResult probe_network_stt(const boost::json::object& stt_config, const NetworkProbe& probe);
ProbeResult probe_network_tts(const boost::json::object& tts_config,
                              const std::string& language,
                              const NetworkProbe& probe);

// The scripted rules parse (with the tools they name).
ProbeResult probe_scripted_llm(const boost::json::object& llm_config);
// The PocketSphinx model loads with a grammar of `vocabulary` and decodes 0.2 s of silence.
ProbeResult probe_embedded_stt(std::string provider, const std::vector<std::string>& vocabulary);
// espeak-ng synthesises one word in `language`.
ProbeResult probe_embedded_tts(std::string provider, const std::string& language);

}  // namespace tl::api
