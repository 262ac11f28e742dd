#include "voice/providers/sse_parser.hpp"

namespace tl::voice {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

Result<std::vector<SseEvent>> SseParser::feed(std::string_view chunk) {
    if (failed_) return make_error(Errc::kUnavailable, "event stream already failed");
    std::vector<SseEvent> out;
    std::size_t pos = 0;
    if (after_cr_ && !chunk.empty()) {
        after_cr_ = false;
        if (chunk.front() == '\n') pos = 1;  // the LF of a CRLF split across chunks
    }
    while (pos < chunk.size()) {
        const auto end = chunk.find_first_of("\r\n", pos);
        if (end == std::string_view::npos) {
            line_.append(chunk.substr(pos));
            break;
        }
        line_.append(chunk.substr(pos, end - pos));
        pos = end + 1;
        if (chunk[end] == '\r') {
            if (pos < chunk.size()) {
                if (chunk[pos] == '\n') ++pos;
            } else {
                after_cr_ = true;
            }
        }
        process_line(line_, out);
        line_.clear();
        if (data_.size() > max_event_bytes_) break;
    }
    if (line_.size() + data_.size() > max_event_bytes_) {
        failed_ = true;
        return make_error(Errc::kUnavailable, "event stream: an event is larger than " +
                                                  std::to_string(max_event_bytes_) + " bytes");
    }
    return out;
}

bool SseParser::has_partial_event() const { return !line_.empty() || !data_.empty(); }

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
    if (at_start_) {
        at_start_ = false;
        if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    }
    if (line.empty()) {  // dispatch
        if (data_.empty()) {
            type_.clear();
            return;
        }
        data_.pop_back();  // the '\n' after the last data line
        SseEvent event;
        if (!type_.empty()) event.type = std::move(type_);
        event.data = std::move(data_);
        event.id = last_id_;
        out.push_back(std::move(event));
        data_.clear();
        type_.clear();
        return;
    }
    if (line.front() == ':') return;  // comment (servers send them as keep-alives)
    std::string_view field = line;
    std::string_view value;
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        data_.append(value);
        data_.push_back('\n');
    } else if (field == "event") {
        type_.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    }
    // `retry` (reconnection time) and unknown fields are ignored: we never reconnect a reply.
}

}  // namespace tl::voice
