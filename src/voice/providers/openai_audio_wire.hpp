#pragma once
// The wire formats of the OpenAI-compatible audio endpoints: `POST {base_url}/audio/transcriptions`
// (multipart/form-data upload of a WAV file, `{"text": ...}` back) and `POST
// {base_url}/audio/speech` (JSON in, audio bytes back: WAV, or raw 16-bit little-endian PCM at
// 24 kHz). Pure: no I/O. Replies are untrusted input: nothing here throws.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "media/rtp_session.hpp"
#include "voice/providers/multipart.hpp"

namespace tl::voice {

// A RIFF/WAVE file (PCM, 16-bit, mono) holding `samples`.
std::string encode_wav(std::span<const std::int16_t> samples, int sample_rate);

struct TranscriptionOptions {
    std::string model;     // "whisper-1", "voxtral-mini-latest", "Systran/faster-whisper-small"
    std::string language;  // ISO 639-1; "" or "multi": not sent (the server detects it)
    std::string prompt;    // optional hint (expected vocabulary); not sent when empty
};

// Fields: file ("audio.wav", audio/wav, 8 kHz), model, language (the part before any '-',
// lower-cased), prompt, response_format=json.
MultipartForm make_transcription_form(const media::Pcm& audio8k,
                                      const TranscriptionOptions& options,
                                      std::string boundary = {});

// `{"text": "..."}` (extra fields ignored); a text/plain answer is taken as the text itself.
// kUnavailable when neither.
Result<std::string> parse_transcription(std::string_view body, std::string_view content_type);

struct SpeechOptions {
    std::string model;                    // "tts-1", "gpt-4o-mini-tts", "kokoro", ...
    std::string voice;                    // "alloy", ...
    std::string response_format = "wav";  // "wav" or "pcm"
    int pcm_sample_rate = 24000;          // the rate of "pcm" answers (OpenAI: 24 kHz)
    std::optional<double> speed;          // 0.25-4
};

// {model, input, voice, response_format, speed?}
boost::json::object make_speech_request_body(std::string_view text, const SpeechOptions& options);

// The audio of a speech answer, resampled to 8 kHz mono. kUnavailable for a JSON or text body
// where audio was expected, an unreadable WAV, an odd PCM length or no audio at all.
Result<std::shared_ptr<const media::Pcm>> decode_speech(std::string_view body,
                                                        std::string_view content_type,
                                                        const SpeechOptions& options);

}  // namespace tl::voice
