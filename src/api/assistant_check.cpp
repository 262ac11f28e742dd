#include "api/assistant_check.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "api/assistant_providers.hpp"
#include "api/provider_probes.hpp"
#include "store/byok_keys.hpp"
#include "voice/providers/openai_settings.hpp"
#include "voice/providers/scripted_llm.hpp"
#include "voice/providers/tool_set.hpp"

namespace tl::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view kEmbeddedStt = "pocketsphinx";
constexpr std::string_view kEmbeddedTts = "espeak-ng";

const json::object* object_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

std::string string_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// What a call would speak and transcribe in, as Call::assistant_language() finds it.
std::string language_of(const json::object& document) {
    for (const auto* slot : {"tts_config", "stt_config"}) {
        if (const auto* config = object_at(document, slot)) {
            auto language = string_at(*config, "language");
            if (!language.empty() && language != "multi") return language;
        }
    }
    return "en";
}

// The phrases the embedded recogniser of an inbound call listens for (as
// call/voice_providers.cpp builds them): the scripted rules' phrases and the transfer
// destinations' descriptions. Parse errors leave phrases out; the llm probe reports them.
std::vector<std::string> embedded_vocabulary(const json::object& document) {
    std::vector<std::string> vocabulary;
    const auto* llm = object_at(document, "llm_config");
    if (llm == nullptr) return vocabulary;
    if (string_at(*llm, "provider") == "scripted") {
        if (auto scripted = voice::parse_scripted_config(*llm)) vocabulary = scripted->vocabulary();
    }
    if (const auto* tools = llm->if_contains("tools"); tools && tools->is_array()) {
        if (auto set = voice::ToolSet::from_config(tools->get_array())) {
            for (const auto& tool : set->tools()) {
                for (const auto& d : tool.destinations) {
                    if (!d.description.empty()) vocabulary.push_back(d.description);
                }
            }
        }
    }
    return vocabulary;
}

ProbeResult not_configured(std::string provider, std::string message) {
    return {std::move(provider), ProbeStatus::kNotConfigured, std::move(message)};
}

// One slot: either settled without asking anyone, or a probe to run.
struct SlotPlan {
    std::optional<ProbeResult> settled;
    std::function<ProbeResult(asio::any_io_executor)> probe;
};

// An OpenAI-compatible provider: not_configured when no key reaches a provider that needs one.
Result<SlotPlan> network_plan(ProviderSlot slot,
                              const json::object& config,
                              const ProviderKeyLookup& key_of,
                              const AssistantCheckOptions& options,
                              std::function<ProbeResult(const NetworkProbe&)> run) {
    auto provider = string_at(config, "provider");
    auto key = key_of(provider);
    if (!key) return key.error();
    const bool needs_key =
        voice::default_base_url(provider).has_value() && string_at(config, "base_url").empty();
    if (needs_key && key->empty()) {
        return SlotPlan{
            not_configured(
                provider,
                fmt::format("{}: provider {} has no API key: add one with POST /api/v1/byok "
                            "or set {} in the server's environment (or give {}.base_url)",
                            slot_name(slot), provider, provider_key_env_var(provider),
                            slot_name(slot))),
            {}};
    }
    const auto timeout = options.timeout;
    return SlotPlan{std::nullopt, [run = std::move(run), key = std::move(*key),
                                   timeout](asio::any_io_executor io) {
                        return run(NetworkProbe{std::move(io), key, timeout});
                    }};
}

// A provider the slot does not accept (stored before providers were checked).
std::optional<ProbeResult> refused(ProviderSlot slot, const std::string& provider) {
    const auto path = std::string(slot_name(slot)) + ".provider";
    if (auto st = check_provider(slot, provider, path); !st) {
        return not_configured(provider, st.error().message);
    }
    return std::nullopt;
}

Result<SlotPlan> llm_plan(const json::object& document,
                          const ProviderKeyLookup& key_of,
                          const AssistantCheckOptions& options) {
    const auto* config = object_at(document, "llm_config");
    if (config == nullptr) {
        return SlotPlan{not_configured("", "no llm_config: calls only greet and listen"), {}};
    }
    const auto provider = string_at(*config, "provider");
    if (provider == "scripted") {
        return SlotPlan{std::nullopt,
                        [config](asio::any_io_executor) { return probe_scripted_llm(*config); }};
    }
    if (voice::is_openai_compatible_provider(provider)) {
        return network_plan(
            ProviderSlot::kLlm, *config, key_of, options,
            [config](const NetworkProbe& p) { return probe_network_llm(*config, p); });
    }
    if (auto r = refused(ProviderSlot::kLlm, provider)) return SlotPlan{std::move(r), {}};
    return SlotPlan{
        not_configured(provider, fmt::format("llm_config.provider '{}' has no conversation "
                                             "runtime here",
                                             provider)),
        {}};
}

Result<SlotPlan> stt_plan(const json::object& document,
                          const ProviderKeyLookup& key_of,
                          const AssistantCheckOptions& options) {
    const auto* config = object_at(document, "stt_config");
    if (config == nullptr) {
        return SlotPlan{not_configured("", fmt::format("no stt_config: calls transcribe with the "
                                                       "embedded recogniser {}",
                                                       kEmbeddedStt)),
                        {}};
    }
    auto provider = string_at(*config, "provider");
    if (voice::is_openai_compatible_provider(provider)) {
        return network_plan(
            ProviderSlot::kStt, *config, key_of, options,
            [config](const NetworkProbe& p) { return probe_network_stt(*config, p); });
    }
    if (!provider.empty()) {
        if (auto r = refused(ProviderSlot::kStt, provider)) return SlotPlan{std::move(r), {}};
    }
    // pocketsphinx, no provider, or an HMS name it stands in for.
    auto vocabulary = embedded_vocabulary(document);
    if (provider.empty()) provider = kEmbeddedStt;
    if (vocabulary.empty()) {
        return SlotPlan{not_configured(provider,
                                       "the embedded recogniser needs words to listen "
                                       "for: scripted rules or transfer destinations "
                                       "with a description"),
                        {}};
    }
    return SlotPlan{std::nullopt, [provider, vocabulary](asio::any_io_executor) {
                        auto r = probe_embedded_stt(provider, vocabulary);
                        if (provider != kEmbeddedStt) {
                            r.message = fmt::format("{} is not built in, {} stands in: {}",
                                                    provider, kEmbeddedStt, r.message);
                        }
                        return r;
                    }};
}

Result<SlotPlan> tts_plan(const json::object& document,
                          const ProviderKeyLookup& key_of,
                          const AssistantCheckOptions& options) {
    const auto* config = object_at(document, "tts_config");
    if (config == nullptr) {
        return SlotPlan{not_configured("", fmt::format("no tts_config: calls speak with the "
                                                       "embedded voice {}",
                                                       kEmbeddedTts)),
                        {}};
    }
    auto provider = string_at(*config, "provider");
    const auto language = language_of(document);
    if (voice::is_openai_compatible_provider(provider)) {
        return network_plan(ProviderSlot::kTts, *config, key_of, options,
                            [config, language](const NetworkProbe& p) {
                                return probe_network_tts(*config, language, p);
                            });
    }
    if (!provider.empty()) {
        if (auto r = refused(ProviderSlot::kTts, provider)) return SlotPlan{std::move(r), {}};
    }
    if (provider.empty()) provider = kEmbeddedTts;
    return SlotPlan{std::nullopt, [provider, language](asio::any_io_executor) {
                        auto r = probe_embedded_tts(provider, language);
                        if (provider != kEmbeddedTts && provider != "espeak") {
                            r.message = fmt::format("{} is not built in, {} stands in: {}",
                                                    provider, kEmbeddedTts, r.message);
                        }
                        return r;
                    }};
}

json::object slot_json(const ProbeResult& r) {
    return {{"provider", r.provider.empty() ? json::value(nullptr) : json::value(r.provider)},
            {"status", to_string(r.status)},
            {"message", r.message}};
}

// The network probes' io_context on a thread of its own, for the duration of one check: the
// speech probe blocks until its request completes on this executor, so it must not be a thread
// that the probes themselves occupy, and the server's io threads must not wait on anyone.
class ProbeIo {
public:
    ProbeIo() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
    ~ProbeIo() {
        work_.reset();
        io_.stop();
        thread_.join();
    }
    ProbeIo(const ProbeIo&) = delete;
    ProbeIo& operator=(const ProbeIo&) = delete;
    asio::any_io_executor executor() { return io_.get_executor(); }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace

ProviderKeyLookup call_key_lookup(store::Store& store,
                                  const store::SecretBox& secrets,
                                  std::string org_id) {
    return [&store, &secrets,
            org_id = std::move(org_id)](const std::string& provider) -> Result<std::string> {
        auto stored = store::ByokKeys(store, secrets).api_key(org_id, provider);
        if (!stored) return stored.error();
        if (*stored) return std::move(**stored);
        const char* env = std::getenv(provider_key_env_var(provider).c_str());
        return std::string(env != nullptr ? env : "");
    };
}

Result<json::object> check_assistant_providers(const json::object& document,
                                               const ProviderKeyLookup& key_of,
                                               const AssistantCheckOptions& options) {
    // Keys are looked up first, on this thread (the store is synchronous).
    auto llm = llm_plan(document, key_of, options);
    if (!llm) return llm.error();
    auto stt = stt_plan(document, key_of, options);
    if (!stt) return stt.error();
    auto tts = tts_plan(document, key_of, options);
    if (!tts) return tts.error();

    std::array<SlotPlan*, 3> plans = {&*llm, &*stt, &*tts};
    ProbeIo io;
    std::array<std::future<ProbeResult>, 3> running;
    for (std::size_t i = 0; i < plans.size(); ++i) {
        if (plans[i]->settled) continue;
        running[i] = std::async(std::launch::async, plans[i]->probe, io.executor());
    }
    std::array<ProbeResult, 3> results;
    for (std::size_t i = 0; i < plans.size(); ++i) {
        results[i] = plans[i]->settled ? std::move(*plans[i]->settled) : running[i].get();
    }
    return json::object{{"llm", slot_json(results[0])},
                        {"stt", slot_json(results[1])},
                        {"tts", slot_json(results[2])}};
}

}  // namespace tl::api
