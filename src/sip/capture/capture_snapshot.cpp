#include "sip/capture/capture_snapshot.hpp"

#include <algorithm>

namespace tl::sip {

std::vector<const CapturedMessage*> oldest_first(const CaptureSnapshot& snapshot) {
    std::vector<const CapturedMessage*> ordered;
    ordered.reserve(snapshot.messages.size());
    for (const auto& message : snapshot.messages) ordered.push_back(&message);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto* a, const auto* b) { return a->timestamp < b->timestamp; });
    return ordered;
}

}  // namespace tl::sip
