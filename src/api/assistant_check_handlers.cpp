// GET /api/v1/assistants/{id}/check: a real, tiny request to each provider of the assistant
// (assistant_check.hpp). Seconds of waiting on providers, so it is a blocking route (run off the
// io threads); another organization's assistant is 404, as everywhere.

#include <boost/json.hpp>

#include "api/api_context.hpp"
#include "api/assistant_check.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

Response check_assistant(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "assistant"); !st) return store_error(st.error());
    auto assistant = ctx.store.get_assistant(req.org_id(), id);
    if (!assistant) return store_error(assistant.error());
    boost::system::error_code ec;
    auto document = json::parse(assistant->config_json, ec);
    if (ec || !document.is_object()) document = json::object();
    auto report = check_assistant_providers(document.get_object(),
                                            call_key_lookup(ctx.store, ctx.secrets, req.org_id()),
                                            AssistantCheckOptions{});
    if (!report) return store_error(report.error());
    return Response::json(200, *report);
}

}  // namespace

void add_assistant_check_routes(Router& router, ApiContext& ctx) {
    router.add_blocking("GET", "/api/v1/assistants/{id}/check", Auth::kApiKey,
                        [&ctx](Request& req) { return check_assistant(req, ctx); });
}

}  // namespace tl::api
