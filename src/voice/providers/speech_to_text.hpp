#pragma once
// The speech-to-text provider interface (DESIGN.md "Voice providers"): one caller utterance in,
// its text out.
//
// Threading: transcribe() never blocks and never calls `done` from inside itself; `done` runs
// later on a provider thread (an io_context thread, or a worker of a blocking engine), exactly
// once unless cancelled. A call's strand posts the result to itself. Providers are thread-safe.

#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "media/rtp_session.hpp"

namespace tl::voice {

struct TranscriptionRequest {
    std::shared_ptr<const media::Pcm> audio;  // 8 kHz mono int16, one utterance
    std::string language;                     // ISO 639-1 ("en"), or "" / "multi": detect
};

// A transcription in flight.
class PendingTranscription {
public:
    virtual ~PendingTranscription() = default;
    // No `done` starts after cancel() returns (one already running finishes). Idempotent,
    // thread-safe.
    virtual void cancel() = 0;
};

class SpeechToText {
public:
    // The text heard (may be empty: nothing recognisable), or an error: kInvalidRequest for
    // empty or over-long audio, kUnavailable (network, timeout, provider 5xx, malformed reply),
    // kRateLimited, kUnauthorized. Messages never hold a key.
    using Done = std::function<void(Result<std::string> text)>;

    virtual ~SpeechToText() = default;
    virtual std::shared_ptr<PendingTranscription> transcribe(TranscriptionRequest request,
                                                             Done done) = 0;
    virtual std::string name() const = 0;
};

}  // namespace tl::voice
