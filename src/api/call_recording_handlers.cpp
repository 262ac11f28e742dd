// GET and DELETE /api/v1/calls/{id}/recording (docs/recordings.md): a call's recording,
// decrypted from its sealed file on the blocking pool (file IO never runs on an io thread), as
// WAV (default) or Opus in Ogg (?format=ogg), whole or a byte range (RFC 9110 §14).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>
#include <optional>

#include "api/api_context.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

struct ByteRange {
    std::size_t first = 0;
    std::size_t last = 0;  // inclusive
};

std::optional<std::size_t> parse_size(std::string_view text) {
    std::size_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

// The single range of a `Range: bytes=a-b` header against a body of `size` bytes. nullopt: no
// usable header (absent, another unit, several ranges, malformed: RFC 9110 §14.2 lets a server
// answer those with the whole body). A range that starts beyond the end is unsatisfiable
// (returned as first > last, for the 416).
std::optional<ByteRange> parse_range(const std::optional<std::string>& header, std::size_t size) {
    if (!header) return std::nullopt;
    std::string_view spec(*header);
    if (!spec.starts_with("bytes=")) return std::nullopt;
    spec.remove_prefix(6);
    if (spec.find(',') != std::string_view::npos) return std::nullopt;
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto first_text = spec.substr(0, dash);
    const auto last_text = spec.substr(dash + 1);
    if (first_text.empty()) {  // bytes=-N: the last N bytes
        const auto suffix = parse_size(last_text);
        if (!suffix) return std::nullopt;
        if (*suffix == 0 || size == 0) return ByteRange{1, 0};
        return ByteRange{size - std::min(*suffix, size), size - 1};
    }
    const auto first = parse_size(first_text);
    if (!first) return std::nullopt;
    std::optional<std::size_t> last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        last = parse_size(last_text);
        if (!last || *last < *first) return std::nullopt;
    }
    if (*first >= size) return ByteRange{1, 0};
    return ByteRange{*first, std::min(*last, size - 1)};
}

Result<recording::Format> requested_format(const Request& req) {
    const auto it = req.query.find("format");
    if (it == req.query.end() || it->second == "wav") return recording::Format::kWav;
    if (it->second == "ogg") return recording::Format::kOgg;
    return make_error(Errc::kInvalidRequest, "format must be wav or ogg", "format");
}

Error no_recording(const ApiContext& ctx,
                   const std::string& org_id,
                   const std::string& id,
                   recording::Format format) {
    const auto& files = *ctx.recordings;
    if (files.in_progress(org_id, id)) {
        return make_error(Errc::kConflict,
                          "the recording is still being written: it is available once the call "
                          "has ended");
    }
    if (format == recording::Format::kOgg && files.exists(org_id, id, recording::Format::kWav)) {
        return make_error(Errc::kNotFound,
                          "this recording has no Opus (Ogg) version: the server that recorded it "
                          "was built without libopus; ask for format=wav",
                          "format");
    }
    return make_error(Errc::kNotFound,
                      "this call has no recording: its assistant did not ask for one "
                      "(recording.enabled), it was deleted, or it is older than "
                      "--recording-retention-days");
}

Response get_recording(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "call"); !st) return store_error(st.error());
    auto format = requested_format(req);
    if (!format) return Response::error(format.error());
    // The call first: another organization's call is not found, recording or not.
    auto call = ctx.store.get_call(req.org_id(), id);
    if (!call) return store_error(call.error());
    if (ctx.recordings == nullptr) {
        return Response::error(make_error(Errc::kNotFound, "this server does not record calls"));
    }
    if (!ctx.recordings->exists(req.org_id(), id, *format)) {
        return Response::error(no_recording(ctx, req.org_id(), id, *format));
    }
    auto audio = ctx.recordings->read(req.org_id(), id, *format);
    if (!audio) {
        if (audio.error().code == Errc::kNotFound) {  // deleted or purged just now
            return Response::error(no_recording(ctx, req.org_id(), id, *format));
        }
        spdlog::warn("call {}: cannot open its recording: {}", id, audio.error().message);
        return Response::error(make_error(
            Errc::kInternal, "the recording cannot be opened: " + audio.error().message));
    }
    const auto size = audio->size();
    const auto range = parse_range(req.header("range"), size);
    Response response;
    if (range && range->first > range->last) {
        response = Response::json(
            416, json::object{{"error", "Range not satisfiable"},
                              {"message", fmt::format("the recording has {} bytes", size)},
                              {"code", "range_not_satisfiable"}});
        response.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
        return response;
    }
    const auto type = std::string(recording::content_type(*format));
    if (range) {
        response =
            Response::text(206, type, audio->substr(range->first, range->last - range->first + 1));
        response.headers.emplace_back(
            "Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->last, size));
    } else {
        response = Response::text(200, type, std::move(*audio));
    }
    response.headers.emplace_back("Accept-Ranges", "bytes");
    response.headers.emplace_back("Cache-Control", "private, no-store");
    response.headers.emplace_back(
        "Content-Disposition",
        fmt::format("attachment; filename=\"call-{}.{}\"", id, recording::to_string(*format)));
    return response;
}

Response delete_recording(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "call"); !st) return store_error(st.error());
    auto call = ctx.store.get_call(req.org_id(), id);
    if (!call) return store_error(call.error());
    if (ctx.recordings == nullptr) {
        return Response::error(make_error(Errc::kNotFound, "this server does not record calls"));
    }
    if (ctx.recordings->in_progress(req.org_id(), id)) {
        return Response::error(no_recording(ctx, req.org_id(), id, recording::Format::kWav));
    }
    auto removed = ctx.recordings->remove(req.org_id(), id);
    if (!removed) return Response::error(removed.error());
    if (*removed == 0) {
        return Response::error(no_recording(ctx, req.org_id(), id, recording::Format::kWav));
    }
    spdlog::info("call {}: recording deleted ({} files)", id, *removed);
    return Response::json(200, json::object{{"deleted", true}, {"call_id", id}});
}

}  // namespace

void add_call_recording_routes(Router& router, ApiContext& ctx) {
    router.add_blocking("GET", "/api/v1/calls/{id}/recording", Auth::kApiKey,
                        [&ctx](Request& req) { return get_recording(req, ctx); });
    router.add_blocking("DELETE", "/api/v1/calls/{id}/recording", Auth::kApiKey,
                        [&ctx](Request& req) { return delete_recording(req, ctx); });
}

}  // namespace tl::api
