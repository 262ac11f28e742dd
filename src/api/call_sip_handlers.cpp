// GET /api/v1/calls/{id}/sip: every SIP message of a call's dialogs (docs/troubleshooting.md),
// as JSON, a text ladder or a pcap. While the call is live on this server the capture is read
// from the call itself; afterwards from the store (kept --sip-capture-retention-days).

#include "api/api_context.hpp"
#include "sip/capture/capture_json.hpp"
#include "sip/capture/ladder.hpp"
#include "sip/capture/pcap.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tl::api {
namespace {

Result<sip::CaptureSnapshot> call_capture(ApiContext& ctx,
                                          const std::string& org_id,
                                          const std::string& call_id) {
    if (ctx.live_calls) {
        if (auto live = ctx.live_calls->live_sip_capture(org_id, call_id)) return std::move(*live);
    }
    auto stored = ctx.store.get_call_capture(org_id, call_id);
    if (!stored) {
        if (stored.error().code == Errc::kNotFound) {
            return make_error(Errc::kNotFound,
                              "no SIP capture is stored for this call: captures are kept for "
                              "--sip-capture-retention-days (7 by default), and calls refused "
                              "beyond the per-second record limit have none");
        }
        return stored.error();
    }
    return sip::capture_from_json(stored->capture_json);
}

Response call_sip(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "call"); !st) return store_error(st.error());
    // The call first: another organization's call is not found, capture or not.
    if (auto call = ctx.store.get_call(req.org_id(), id); !call) return store_error(call.error());
    std::string format = "json";
    if (const auto it = req.query.find("format"); it != req.query.end()) format = it->second;
    if (format != "json" && format != "ladder" && format != "pcap") {
        Error error{Errc::kInvalidRequest, "format must be json, ladder or pcap", "format"};
        return Response::error(error);
    }
    auto capture = call_capture(ctx, req.org_id(), id);
    if (!capture) return store_error(capture.error());
    if (format == "ladder") {
        return Response::text(200, "text/plain; charset=utf-8", sip::render_ladder(*capture));
    }
    if (format == "pcap") {
        auto response =
            Response::text(200, "application/vnd.tcpdump.pcap", sip::write_pcap(*capture));
        response.headers.emplace_back("Content-Disposition",
                                      fmt::format("attachment; filename=\"call-{}.pcap\"", id));
        return response;
    }
    return Response::json(200, sip::capture_to_json(*capture));
}

}  // namespace

void add_call_sip_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/calls/{id}/sip", Auth::kApiKey,
               [&ctx](Request& req) { return call_sip(req, ctx); });
}

}  // namespace tl::api
