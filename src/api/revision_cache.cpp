#include "api/revision_cache.hpp"

#include <mutex>

namespace tl::api {

Response RevisionCache::get(const Request& request,
                            const std::string& key,
                            long long revision,
                            const std::function<Response()>& build) {
    const auto etag = "\"r" + std::to_string(revision) + "\"";
    if (request.header("if-none-match") == etag) {
        Response not_modified;
        not_modified.status = 304;
        not_modified.headers.emplace_back("ETag", etag);
        return not_modified;
    }
    std::shared_ptr<const std::string> body;
    {
        std::shared_lock lock(mutex_);
        if (const auto it = entries_.find(key); it != entries_.end() && it->second.revision == revision) {
            body = it->second.body;
        }
    }
    Response response;
    if (body) {
        response.body = *body;
    } else {
        response = build();
        if (response.status != 200) return response;
        auto shared = std::make_shared<const std::string>(response.body);
        std::unique_lock lock(mutex_);
        if (entries_.size() >= max_entries_) entries_.clear();  // rare; entries rebuild cheaply
        auto& entry = entries_[key];
        if (entry.revision <= revision) entry = Entry{revision, std::move(shared)};
    }
    response.headers.emplace_back("ETag", etag);
    return response;
}

}  // namespace tl::api
