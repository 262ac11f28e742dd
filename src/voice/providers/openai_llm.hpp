#pragma once
// The OpenAI-compatible language model: `POST {base_url}/chat/completions` with `stream: true`
// (OpenAI, Mistral, xAI, Groq, vLLM, Ollama, llama.cpp server).
//
// Text deltas reach on_text as the server sends them; tool calls reach on_tool_call complete,
// once the chunk carrying the finish_reason arrived; on_done follows at once (the rest of the
// stream, a usage chunk and `data: [DONE]`, is drained in the background so the connection can
// be kept alive). A server that answers `application/json` (no streaming) works too.
//
// Failures: one retry after a connection error, HTTP 5xx or 429 (Retry-After honoured up to
// 2 s) when nothing reached the handler yet; no first byte within first_byte_timeout, a pause
// longer than idle_timeout or a reply longer than total_timeout ends the reply with kUnavailable;
// malformed events end it with kUnavailable naming what was wrong. Keys and bodies are never
// logged; provider error sentences are quoted in errors with the key masked.
//
// Threading: see language_model.hpp. All I/O runs on one strand of `executor` (an io_context
// pool), which also runs the handler's callbacks; connections are kept alive across replies.

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "voice/providers/language_model.hpp"
#include "voice/providers/openai_settings.hpp"

namespace tl::voice {

std::shared_ptr<LanguageModel> make_openai_language_model(boost::asio::any_io_executor executor,
                                                          OpenAiChatSettings settings);

}  // namespace tl::voice
