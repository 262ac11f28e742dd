#include "api/assistant_providers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <numeric>

#include "voice/providers/openai_settings.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

// The embedded engines, by the names they give themselves (SphinxRecognizer::name(),
// EspeakTts::name()); "espeak" is accepted too, as clients write it.
constexpr std::string_view kEmbeddedStt = "pocketsphinx";
constexpr std::string_view kEmbeddedTts = "espeak-ng";

// What each slot accepts. The OpenAI-compatible names are openai_settings.hpp's (a unit test
// checks them against voice::is_openai_compatible_provider). The HMS-only names come from the
// HMS catalog (api-contract.md §3.2 and §3.4): configurations written for HMS keep working, with
// the embedded engine standing in and a warning saying so.
constexpr std::array<std::string_view, 6> kLlm = {"scripted", "openai", "mistral",
                                                  "xai",      "groq",   "openai_compatible"};
constexpr std::array<std::string_view, 10> kStt = {
    kEmbeddedStt,        "openai",   "mistral",    "xai",    "groq",
    "openai_compatible", "deepgram", "elevenlabs", "gladia", "google"};
constexpr std::size_t kSttRuntime = 6;  // the first six: what the runtime drives itself
constexpr std::array<std::string_view, 11> kTts = {
    kEmbeddedTts,        "espeak",     "openai", "mistral", "xai",   "groq",
    "openai_compatible", "elevenlabs", "11labs", "inworld", "google"};
constexpr std::size_t kTtsRuntime = 7;

std::span<const std::string_view> runtime_providers(ProviderSlot slot) {
    switch (slot) {
        case ProviderSlot::kStt:
            return std::span(kStt).first(kSttRuntime);
        case ProviderSlot::kTts:
            return std::span(kTts).first(kTtsRuntime);
        case ProviderSlot::kLlm:
            break;
    }
    return kLlm;
}

std::span<const std::string_view> hms_only_providers(ProviderSlot slot) {
    switch (slot) {
        case ProviderSlot::kStt:
            return std::span(kStt).subspan(kSttRuntime);
        case ProviderSlot::kTts:
            return std::span(kTts).subspan(kTtsRuntime);
        case ProviderSlot::kLlm:
            break;
    }
    return {};
}

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

// Levenshtein distance ignoring ASCII case, giving up (returning limit + 1) once it exceeds
// `limit`: provider values are untrusted and up to 128 bytes.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
    const std::size_t longer = std::max(a.size(), b.size());
    if (longer - std::min(a.size(), b.size()) > limit) return limit + 1;
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        std::size_t best = row[0];
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
            best = std::min(best, row[j]);
        }
        if (best > limit) return limit + 1;
    }
    return row[b.size()];
}

std::string joined(std::span<const std::string_view> names) {
    std::string out;
    for (const auto name : names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

std::string provider_of(const json::object& config) {
    const auto* p = config.if_contains("provider");
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
}

bool has_base_url(const json::object& config) {
    const auto* b = config.if_contains("base_url");
    return b && b->is_string() && !b->get_string().empty();
}

bool contains(std::span<const std::string_view> names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The configured slots of `document`, in slot order.
struct ConfiguredSlot {
    ProviderSlot slot;
    const json::object* config;
};

std::vector<ConfiguredSlot> configured_slots(const json::object& document) {
    std::vector<ConfiguredSlot> out;
    for (const auto slot : {ProviderSlot::kStt, ProviderSlot::kLlm, ProviderSlot::kTts}) {
        const auto* v = document.if_contains(slot_name(slot));
        if (v && v->is_object()) out.push_back({slot, &v->get_object()});
    }
    return out;
}

// A network provider with a public default URL needs a key unless the config points elsewhere.
bool needs_key(const json::object& config) {
    return voice::default_base_url(provider_of(config)).has_value() && !has_base_url(config);
}

std::string substitution_warning(ProviderSlot slot, const std::string& provider) {
    const auto runtime = joined(runtime_providers(slot));
    if (slot == ProviderSlot::kStt) {
        return fmt::format(
            "stt_config: provider {} is not built into Trunkline (accepted for HMS compatibility): "
            "calls transcribe with the embedded recogniser {} instead, which hears only the "
            "assistant's scripted phrases and transfer descriptions; use one of {}",
            provider, kEmbeddedStt, runtime);
    }
    return fmt::format(
        "tts_config: provider {} is not built into Trunkline (accepted for HMS compatibility): "
        "calls speak with the embedded voice {} instead; use one of {}",
        provider, kEmbeddedTts, runtime);
}

}  // namespace

std::string_view slot_name(ProviderSlot slot) {
    switch (slot) {
        case ProviderSlot::kStt:
            return "stt_config";
        case ProviderSlot::kTts:
            return "tts_config";
        case ProviderSlot::kLlm:
            break;
    }
    return "llm_config";
}

std::span<const std::string_view> accepted_providers(ProviderSlot slot) {
    switch (slot) {
        case ProviderSlot::kStt:
            return kStt;
        case ProviderSlot::kTts:
            return kTts;
        case ProviderSlot::kLlm:
            break;
    }
    return kLlm;
}

std::optional<std::string_view> closest_provider(ProviderSlot slot, std::string_view provider) {
    constexpr std::size_t kMaxDistance = 2;
    const auto names = accepted_providers(slot);
    for (const auto name : names) {
        if (equal_ignoring_case(name, provider)) return name;
    }
    std::optional<std::string_view> best;
    std::size_t best_distance = kMaxDistance + 1;
    for (const auto name : names) {
        const auto d = edit_distance(provider, name, kMaxDistance);
        if (d < best_distance) {
            best = name;
            best_distance = d;
        }
    }
    return best;
}

Status check_provider(ProviderSlot slot, std::string_view provider, const std::string& path) {
    if (contains(accepted_providers(slot), provider)) return {};
    std::string message = fmt::format("{} '{}' is not supported", path, provider);
    if (const auto match = closest_provider(slot, provider)) {
        message += fmt::format(" (did you mean '{}'?)", *match);
    }
    message += ": valid values are " + joined(runtime_providers(slot));
    if (const auto hms = hms_only_providers(slot); !hms.empty()) {
        message +=
            fmt::format(", and for HMS compatibility {} ({} stands in for them)", joined(hms),
                        slot == ProviderSlot::kStt ? kEmbeddedStt : kEmbeddedTts);
    }
    return make_error(Errc::kUnsupportedProvider, std::move(message), path);
}

std::string provider_key_env_var(std::string_view provider) {
    std::string name = "TRUNKLINE_";
    for (const char c : provider) {
        name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name + "_API_KEY";
}

std::vector<std::string> providers_needing_keys(const json::object& document) {
    std::vector<std::string> out;
    for (const auto& [slot, config] : configured_slots(document)) {
        auto provider = provider_of(*config);
        if (needs_key(*config) && std::find(out.begin(), out.end(), provider) == out.end()) {
            out.push_back(std::move(provider));
        }
    }
    return out;
}

std::vector<std::string> provider_warnings(const json::object& document,
                                           const HasProviderKey& has_key) {
    std::vector<std::string> out;
    for (const auto& [slot, config] : configured_slots(document)) {
        const auto* value = config->if_contains("provider");
        if (value == nullptr || value->is_null()) continue;
        const auto provider = provider_of(*config);
        const auto name = slot_name(slot);
        if (!contains(accepted_providers(slot), provider)) {
            // Stored before providers were checked: say what a PATCH would say.
            const auto path = std::string(name) + ".provider";
            auto refused = check_provider(slot, provider, path);
            out.push_back(fmt::format("{}: {}; a call cannot use it until the provider is fixed",
                                      name, refused.error().message));
        } else if (contains(hms_only_providers(slot), provider)) {
            out.push_back(substitution_warning(slot, provider));
        } else if (needs_key(*config) && !has_key(provider)) {
            out.push_back(fmt::format(
                "{}: provider {} has no API key: add one with POST /api/v1/byok "
                "{{\"provider\": \"{}\", \"api_key\": \"...\"}} or set {} in the server's "
                "environment (or give {}.base_url for a server that needs none); calls will "
                "apologise and fall back until then",
                name, provider, provider, provider_key_env_var(provider), name));
        }
    }
    return out;
}

}  // namespace tl::api
