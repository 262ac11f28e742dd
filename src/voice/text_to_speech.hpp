#pragma once
// Speech synthesis: the provider interface, the embedded espeak-ng provider, and the service
// that runs synthesis on a worker pool (never on the SIP thread or a call's strand) with a cache
// so repeated prompts (greetings) cost nothing after the first call.

#include "common/error.hpp"
#include "media/rtp_session.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace tl::voice {

using PcmPtr = std::shared_ptr<const media::Pcm>;  // 8 kHz mono

class TextToSpeech {
public:
    virtual ~TextToSpeech() = default;
    // Blocking; returns 8 kHz audio. `language` is an ISO 639-1 code ("en", "nl") or "" (en).
    virtual Result<PcmPtr> synthesize(const std::string& text, const std::string& language) = 0;
    virtual std::string name() const = 0;
};

// espeak-ng through libespeak-ng (synchronous mode). espeak-ng keeps global state, so calls are
// serialised internally (thread-safe). Voice from the language ("en" -> "en-us", "nl" -> "nl",
// ...; "", "multi" and unknown codes -> "en-us" with a warning), variant "klatt4". Errors:
// kInvalidRequest for empty text, more than 4096 bytes or invalid UTF-8; kInternal from espeak.
std::shared_ptr<TextToSpeech> make_espeak_tts();

class SpeechService {
public:
    using Done = std::function<void(Result<PcmPtr>)>;

    SpeechService(std::shared_ptr<TextToSpeech> engine, std::size_t workers, std::size_t cache_entries);
    // Joins the workers: a synthesis already running completes normally; queued ones are
    // completed with kUnavailable. Must not run on a worker (i.e. not from a `done`).
    ~SpeechService();

    // Queues a synthesis; `done` runs on a worker thread (post it to your strand), also for a
    // cache hit, never inside this call. Identical requests in flight share one synthesis.
    // Thread-safe. Failures are not cached.
    void synthesize(std::string text, std::string language, Done done);

    // Hits: requests answered without a synthesis of their own (from the cache, or joining an
    // identical one in flight). Misses: requests that started a synthesis.
    std::size_t cache_hits() const;
    std::size_t cache_misses() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tl::voice
