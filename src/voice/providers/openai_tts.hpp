#pragma once
// The OpenAI-compatible text-to-speech provider: `POST {base_url}/audio/speech` with
// {model, input, voice, response_format, speed?}; the audio (WAV at any rate, or raw 16-bit
// 24 kHz PCM) decoded and resampled to 8 kHz. OpenAI (tts-1, gpt-4o-mini-tts), and self-hosted
// servers that speak the same endpoint (Piper or Kokoro behind an OpenAI-compatible server).
//
// It implements the blocking TextToSpeech interface, so it runs where SpeechService runs its
// engines: on a worker thread, which waits while the request runs on a strand of `executor`.
// Never call synthesize() on a thread of that executor (it would wait on itself: kInternal).
//
// Failures: one retry after a connection error, HTTP 5xx or 429; bounded by settings.timeout.
// Text must hold 1 to 4096 bytes (the OpenAI limit; kInvalidRequest).

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "voice/providers/openai_settings.hpp"
#include "voice/text_to_speech.hpp"

namespace tl::voice {

std::shared_ptr<TextToSpeech> make_openai_text_to_speech(boost::asio::any_io_executor executor,
                                                         OpenAiSpeechSettings settings);

}  // namespace tl::voice
