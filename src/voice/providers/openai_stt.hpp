#pragma once
// The OpenAI-compatible speech-to-text provider: `POST {base_url}/audio/transcriptions`, the
// utterance uploaded as a 8 kHz WAV file in multipart/form-data with model, language (when
// set), prompt (keyterms, when set) and response_format=json; `{"text": ...}` back. OpenAI
// (whisper-1, gpt-4o-transcribe), Mistral (voxtral), Groq, faster-whisper-server, ...
//
// Failures: one retry after a connection error, HTTP 5xx or 429; the request as a whole is
// bounded by settings.timeout. Audio must hold 1 sample to 10 minutes (kInvalidRequest).
//
// Threading: see speech_to_text.hpp; all I/O and `done` run on one strand of `executor`.

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "voice/providers/openai_settings.hpp"
#include "voice/providers/speech_to_text.hpp"

namespace tl::voice {

std::shared_ptr<SpeechToText> make_openai_speech_to_text(boost::asio::any_io_executor executor,
                                                         OpenAiTranscriptionSettings settings);

}  // namespace tl::voice
