#include "api/provider_probes.hpp"

#include <fmt/format.h>

#include <future>
#include <memory>

#include "voice/listening/sphinx_recognizer.hpp"
#include "voice/providers/openai_llm.hpp"
#include "voice/providers/openai_settings.hpp"
#include "voice/providers/openai_stt.hpp"
#include "voice/providers/openai_tts.hpp"
#include "voice/providers/provider_errors.hpp"
#include "voice/providers/scripted_llm.hpp"
#include "voice/text_to_speech.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// The provider's own deadline ends every request; this margin only guards against a provider
// that never calls back (it would be a bug), so the route still answers.
constexpr auto kCallbackMargin = std::chrono::seconds(3);

// 0.2 s at 8 kHz: long enough for every transcription API (OpenAI refuses under 0.1 s), short
// enough to cost nothing (billed per second, or per started second).
constexpr std::size_t kSilenceSamples = 1600;

std::string provider_of(const json::object& config) {
    const auto* p = config.if_contains("provider");
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
}

long long elapsed_ms(Clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// A config the parser refuses (stored before a check existed, or a missing base_url): a call
// could not use it either, and the message says which field.
ProbeResult not_configured(std::string provider, const Error& error) {
    return {std::move(provider), ProbeStatus::kNotConfigured, error.message};
}

ProbeResult failed(std::string provider, const Error& error, std::string_view key) {
    return {std::move(provider), probe_status_of(error), voice::redact(error.message, key)};
}

ProbeResult ok(std::string provider, std::string message, std::string_view key) {
    return {std::move(provider), ProbeStatus::kOk, voice::redact(std::move(message), key)};
}

ProbeResult no_callback(std::string provider, std::chrono::milliseconds timeout) {
    return {std::move(provider), ProbeStatus::kUnreachable,
            fmt::format("no answer within {} ms", (timeout + kCallbackMargin).count())};
}

}  // namespace

std::string_view to_string(ProbeStatus status) {
    switch (status) {
        case ProbeStatus::kOk:
            return "ok";
        case ProbeStatus::kAuthFailed:
            return "auth_failed";
        case ProbeStatus::kUnreachable:
            return "unreachable";
        case ProbeStatus::kNotConfigured:
            break;
    }
    return "not_configured";
}

ProbeStatus probe_status_of(const Error& error) {
    return error.code == Errc::kUnauthorized ? ProbeStatus::kAuthFailed : ProbeStatus::kUnreachable;
}

// A chat completion capped at one token rather than GET /models: it goes through the exact
// endpoint, key and model a call uses (GET /models proves neither that the model exists nor
// that the server implements chat completions, and several compatible servers lack it), for
// about ten tokens.
ProbeResult probe_network_llm(const json::object& llm_config, const NetworkProbe& probe) {
    auto provider = provider_of(llm_config);
    auto settings = voice::parse_openai_chat_settings(llm_config);
    if (!settings) return not_configured(std::move(provider), settings.error());
    const auto model = settings->options.model;
    settings->endpoint.api_key = probe.api_key;
    settings->options.max_tokens = 1;
    settings->first_byte_timeout = settings->idle_timeout = settings->total_timeout = probe.timeout;
    auto llm = voice::make_openai_language_model(probe.io, std::move(*settings));

    // Shared with the handler, which the provider keeps until on_done (or forever, if it hung).
    auto done = std::make_shared<std::promise<Result<voice::FinishReason>>>();
    auto answered = done->get_future();
    voice::ReplyHandler handler;
    handler.on_text = [](std::string_view) {};
    handler.on_tool_call = [](voice::ToolCall) {};
    handler.on_done = [done](Result<voice::FinishReason> r) { done->set_value(std::move(r)); };
    voice::ChatRequest request;
    request.messages.push_back({voice::Role::kUser, "Say OK.", {}, {}});
    const auto start = Clock::now();
    auto stream = llm->reply(std::move(request), std::move(handler));
    if (answered.wait_for(probe.timeout + kCallbackMargin) != std::future_status::ready) {
        stream->cancel();
        return no_callback(std::move(provider), probe.timeout);
    }
    auto result = answered.get();
    if (!result) return failed(std::move(provider), result.error(), probe.api_key);
    // A one-token cap ends most replies with finish_reason "length": the model answered.
    return ok(
        std::move(provider),
        fmt::format("chat completion with model {} answered in {} ms", model, elapsed_ms(start)),
        probe.api_key);
}

ProbeResult probe_network_stt(const json::object& stt_config, const NetworkProbe& probe) {
    auto provider = provider_of(stt_config);
    auto settings = voice::parse_openai_transcription_settings(stt_config);
    if (!settings) return not_configured(std::move(provider), settings.error());
    const auto model = settings->options.model;
    const auto language = settings->options.language;
    settings->endpoint.api_key = probe.api_key;
    settings->timeout = probe.timeout;
    auto stt = voice::make_openai_speech_to_text(probe.io, std::move(*settings));

    auto done = std::make_shared<std::promise<Result<std::string>>>();
    auto answered = done->get_future();
    voice::TranscriptionRequest request{
        std::make_shared<const media::Pcm>(kSilenceSamples, std::int16_t{0}), language};
    const auto start = Clock::now();
    auto pending = stt->transcribe(
        std::move(request), [done](Result<std::string> text) { done->set_value(std::move(text)); });
    if (answered.wait_for(probe.timeout + kCallbackMargin) != std::future_status::ready) {
        pending->cancel();
        return no_callback(std::move(provider), probe.timeout);
    }
    auto result = answered.get();
    if (!result) return failed(std::move(provider), result.error(), probe.api_key);
    return ok(std::move(provider),
              fmt::format("transcription of 0.2 s of silence with model {} answered in {} ms",
                          model, elapsed_ms(start)),
              probe.api_key);
}

// One short word: speech is billed per input character, and it still proves the model and the
// voice exist and that the answer decodes as audio a call can play.
ProbeResult probe_network_tts(const json::object& tts_config,
                              const std::string& language,
                              const NetworkProbe& probe) {
    auto provider = provider_of(tts_config);
    auto settings = voice::parse_openai_speech_settings(tts_config);
    if (!settings) return not_configured(std::move(provider), settings.error());
    const auto model = settings->options.model;
    const auto voice_id = settings->options.voice;
    settings->endpoint.api_key = probe.api_key;
    settings->timeout = probe.timeout;
    auto tts = voice::make_openai_text_to_speech(probe.io, std::move(*settings));
    const auto start = Clock::now();
    auto audio = tts->synthesize("Hello.", language);
    if (!audio) return failed(std::move(provider), audio.error(), probe.api_key);
    return ok(std::move(provider),
              fmt::format("speech with model {} and voice {} answered in {} ms ({} ms of audio)",
                          model, voice_id, elapsed_ms(start), (*audio)->size() / 8),
              probe.api_key);
}

ProbeResult probe_scripted_llm(const json::object& llm_config) {
    auto provider = provider_of(llm_config);
    auto scripted = voice::parse_scripted_config(llm_config);
    if (!scripted) return not_configured(std::move(provider), scripted.error());
    return {std::move(provider), ProbeStatus::kOk,
            fmt::format("embedded rules: {} rule(s) parsed", scripted->rules.size())};
}

ProbeResult probe_embedded_stt(std::string provider, const std::vector<std::string>& vocabulary) {
    voice::SphinxRecognizerConfig config;
    config.vocabulary = vocabulary;
    config.decoders = 1;
    const auto start = Clock::now();
    auto recognizer = voice::SphinxRecognizer::create(std::move(config));
    if (!recognizer)
        return {std::move(provider), ProbeStatus::kUnreachable, recognizer.error().message};
    const media::Pcm silence(kSilenceSamples, 0);
    if (auto heard = (*recognizer)->recognize(silence); !heard) {
        return {std::move(provider), ProbeStatus::kUnreachable, heard.error().message};
    }
    auto message = fmt::format("embedded recogniser loaded in {} ms, listening for {} phrase(s)",
                               elapsed_ms(start), (*recognizer)->keywords().size());
    if (const auto& skipped = (*recognizer)->skipped(); !skipped.empty()) {
        message += fmt::format(" ({} left out: words outside its dictionary)", skipped.size());
    }
    return {std::move(provider), ProbeStatus::kOk, std::move(message)};
}

ProbeResult probe_embedded_tts(std::string provider, const std::string& language) {
    const auto start = Clock::now();
    auto audio = voice::make_espeak_tts()->synthesize("Hello.", language);
    if (!audio) return {std::move(provider), ProbeStatus::kUnreachable, audio.error().message};
    return {std::move(provider), ProbeStatus::kOk,
            fmt::format("embedded voice espeak-ng spoke a word in {} ms", elapsed_ms(start))};
}

}  // namespace tl::api
