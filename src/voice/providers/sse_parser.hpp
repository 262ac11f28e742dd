#pragma once
// Server-sent events (the WHATWG HTML standard, "9.2.6 Interpreting an event stream"), as the
// OpenAI-compatible chat completions stream them: `data:` lines, `event:`/`id:` fields, comments
// (`:` lines), LF, CRLF or CR line ends, and events split across arbitrary chunk boundaries
// (a CRLF may be split too). Untrusted input: nothing here throws; an event larger than the
// limit is an error.
//
// Thread-safety: none; one parser per stream.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tl::voice {

struct SseEvent {
    std::string type = "message";  // the `event:` field, "message" when absent
    std::string data;              // `data:` lines joined with '\n'
    std::string id;                // the last event id seen (the stream's, not only this event's)
};

class SseParser {
public:
    static constexpr std::size_t kDefaultMaxEventBytes = std::size_t{1} << 20;

    explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes)
        : max_event_bytes_(max_event_bytes) {}

    // Consumes the next bytes of the stream and returns the events they complete (an event ends
    // with a blank line). kUnavailable when a line or an event exceeds the limit; the parser is
    // then unusable.
    Result<std::vector<SseEvent>> feed(std::string_view chunk);

    // True when bytes of an unfinished event are buffered: the standard discards them at the end
    // of the stream, a caller may want to report the stream as truncated.
    bool has_partial_event() const;

private:
    void process_line(std::string_view line, std::vector<SseEvent>& out);

    std::size_t max_event_bytes_;
    std::string line_;       // the current, unfinished line
    bool after_cr_ = false;  // the previous chunk ended in CR: a leading LF belongs to it
    bool at_start_ = true;   // a UTF-8 BOM may open the stream
    std::string data_;       // data of the event being built, each line followed by '\n'
    std::string type_;
    std::string last_id_;
    bool failed_ = false;
};

}  // namespace tl::voice
