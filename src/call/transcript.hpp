#pragma once
// The call's record of what was said: the call object's `messages` (GET /calls/{id}, the
// end-of-call report). Everything the caller heard (role "assistant": the greeting, replies,
// transfer messages, apologies, `say`, goodbyes) and everything the caller said (role "user"),
// ordered by when it started, each as {role, content, time, seconds_from_start}.
// It is not the language model's history (voice::Conversation keeps that): words the call says
// on its own (a transfer message, an apology) are here and not there.
//
// Thread-safety: none; the call's strand owns it.

#include "common/clock.hpp"

#include <boost/json/array.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tl::call {

class Transcript {
public:
    using SteadyTime = std::chrono::steady_clock::time_point;

    Transcript() = default;
    // `start` (steady clock) is the call's answer, `wall_start` the wall clock at that moment:
    // every entry's time is derived from both, so times never go backwards when the wall
    // clock is stepped during the call.
    Transcript(SteadyTime start, SystemTime wall_start) : start_(start), wall_start_(wall_start) {}

    // Words that began at `started`. Placed after every entry that began at the same time or
    // earlier, so the record reads in the order things were said, whatever order they were
    // reported in (a caller's turn is known only once transcribed).
    void add(std::string_view role, std::string_view content, SteadyTime started);

    const boost::json::array& messages() const { return messages_; }

private:
    SteadyTime start_{};
    SystemTime wall_start_{};
    boost::json::array messages_;
};

}  // namespace tl::call
