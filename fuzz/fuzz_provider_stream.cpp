// Fuzzes what an OpenAI-compatible server sends back (voice/providers): the server-sent event
// parser, the streamed chat decoder fed with its events, and the non-streamed completion parser.
// A provider is a network peer: its bytes are untrusted.
//
// Invariants: the events parsed from the whole input equal the events parsed from the same input
// cut into chunks at arbitrary places (the first byte picks the cut size), and both agree on
// failing; every event's data goes through a ChatStreamDecoder without a crash; once a decoder
// reports the reply finished it stays finished; complete tool calls have a name.

#include "fuzz_check.hpp"
#include "voice/providers/openai_chat_wire.hpp"
#include "voice/providers/sse_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tl::voice::SseEvent;
using tl::voice::SseParser;

struct Parsed {
    bool ok = true;
    std::vector<SseEvent> events;
};

Parsed parse(std::string_view input, std::size_t chunk) {
    SseParser parser(64 * 1024);
    Parsed out;
    for (std::size_t at = 0; at < input.size(); at += chunk) {
        auto events = parser.feed(input.substr(at, chunk));
        if (!events) {
            out.ok = false;
            return out;
        }
        for (auto& e : *events) out.events.push_back(std::move(e));
    }
    return out;
}

bool same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0] % 17;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    const auto whole = parse(input, input.size() + 1);
    const auto pieces = parse(input, chunk);
    TL_FUZZ_CHECK(whole.ok == pieces.ok, input);
    if (whole.ok) TL_FUZZ_CHECK(same(whole.events, pieces.events), input);

    tl::voice::ChatStreamDecoder decoder;
    bool finished = false;
    for (const auto& event : whole.events) {
        auto update = decoder.on_event(event.data);
        if (!update) break;
        for (const auto& call : update->tool_calls) TL_FUZZ_CHECK(!call.name.empty(), input);
        if (update->finish) finished = true;
        TL_FUZZ_CHECK(!finished || decoder.finished(), input);
    }
    (void)decoder.end_of_stream();
    (void)tl::voice::parse_chat_completion(input);
    return 0;
}
