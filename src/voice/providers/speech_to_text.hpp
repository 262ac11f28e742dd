#pragma once
// The speech-to-text provider interface (DESIGN.md "Voice providers"): one caller utterance in,
// its text out.
//
// Threading: transcribe() never blocks and never calls `done` from inside itself; `done` runs
// later on a provider thread (an io_context thread, or a worker of a blocking engine), exactly
// once unless cancelled. A call's strand posts the result to itself. Providers are thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "media/rtp_session.hpp"

namespace tl::voice {

// What the assistant expects to hear: a closed-vocabulary recogniser listens for less when the
// caller is answering a yes/no question; others ignore it.
enum class Expecting { kRequest, kYesOrNo };

struct TranscriptionRequest {
    std::shared_ptr<const media::Pcm> audio;  // 8 kHz mono int16, one utterance
    std::string language;                     // ISO 639-1 ("en"), or "" / "multi": detect
    Expecting expecting = Expecting::kRequest;
};

// An utterance as the assistant understands it.
struct Heard {
    std::string text;
    // How sure a closed-vocabulary recogniser is of the words the assistant acts on (0..1: the
    // lowest lattice posterior among them). Unset: the provider gives no confidence, and what
    // it heard is taken as said.
    std::optional<double> confidence;
    // False when a closed-vocabulary recogniser heard none of the words the assistant listens
    // for: the caller was not understood.
    bool understood = true;
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

    // transcribe() with what the provider knows of how sure it is. The default: the text,
    // without a confidence.
    using HeardDone = std::function<void(Result<Heard> heard)>;
    virtual std::shared_ptr<PendingTranscription> listen(TranscriptionRequest request,
                                                         HeardDone done) {
        return transcribe(std::move(request), [done = std::move(done)](Result<std::string> text) {
            if (!text) {
                done(text.error());
                return;
            }
            done(Heard{std::move(*text), std::nullopt, true});
        });
    }
};

}  // namespace tl::voice
