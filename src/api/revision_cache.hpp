#pragma once
// Configuration lists (trunks, numbers, assistants) keyed by the organization's revision, which
// the store bumps on every change from any process (docs/adr/0004-config-revision-cache.md).
// A hit costs one copy of the body; a stale entry can never be served because the revision is
// read (during authentication) before the list is, so an entry is always at least as new as the
// revision it is filed under.
//
// Thread-safety: all methods may be called concurrently.

#include "api/http_types.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace tl::api {

class RevisionCache {
public:
    explicit RevisionCache(std::size_t max_entries = 10'000) : max_entries_(max_entries) {}

    // Serves `key` at `revision` from the cache or from `build` (cached when it answers 200).
    // Sets ETag, and answers 304 when the request's If-None-Match already names this revision.
    Response get(const Request& request,
                 const std::string& key,
                 long long revision,
                 const std::function<Response()>& build);

private:
    struct Entry {
        long long revision = -1;
        std::shared_ptr<const std::string> body;
    };

    std::size_t max_entries_;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace tl::api
