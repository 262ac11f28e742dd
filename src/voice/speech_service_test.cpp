// SpeechService against a fake engine (counts and gates synthesis) and against espeak-ng.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "voice/text_to_speech.hpp"

namespace tl::voice {
namespace {

using namespace std::chrono_literals;

// Returns one sample per character; synthesis can be held at a gate to build up a queue.
class FakeTts final : public TextToSpeech {
public:
    Result<PcmPtr> synthesize(const std::string& text, const std::string& language) override {
        std::unique_lock lock(mutex_);
        ++calls_;
        ++running_;
        changed_.notify_all();
        changed_.wait(lock, [this] { return open_; });
        --running_;
        if (text == "throw") {
            throw std::runtime_error("engine exploded");
        }
        if (fail_next_) {
            fail_next_ = false;
            return make_error(Errc::kInternal, "fake failure");
        }
        return PcmPtr(std::make_shared<media::Pcm>(text.size() + language.size(), 1000));
    }
    std::string name() const override { return "fake"; }

    void close_gate() {
        std::lock_guard lock(mutex_);
        open_ = false;
    }
    void open_gate() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    void fail_next() {
        std::lock_guard lock(mutex_);
        fail_next_ = true;
    }
    // Waits until `n` syntheses are blocked at the gate.
    bool wait_running(int n) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 5s, [&] { return running_ == n; });
    }
    int calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = true;
    bool fail_next_ = false;
    int calls_ = 0;
    int running_ = 0;
};

// Collects completions from worker threads.
class Results {
public:
    SpeechService::Done callback(std::size_t slot) {
        return [this, slot](Result<PcmPtr> result) {
            std::lock_guard lock(mutex_);
            results_.at(slot).emplace_back(std::move(result));
            threads_.push_back(std::this_thread::get_id());
            changed_.notify_all();
        };
    }
    explicit Results(std::size_t slots) : results_(slots) {}

    bool wait(std::size_t total) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 10s, [&] { return threads_.size() >= total; });
    }
    // The one result of `slot` (fails the test unless exactly one arrived).
    Result<PcmPtr> at(std::size_t slot) {
        std::lock_guard lock(mutex_);
        EXPECT_EQ(results_.at(slot).size(), 1u) << "slot " << slot;
        if (results_.at(slot).empty()) {
            return make_error(Errc::kInternal, "no result");
        }
        return results_.at(slot).front();
    }
    std::vector<std::thread::id> threads() {
        std::lock_guard lock(mutex_);
        return threads_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::vector<Result<PcmPtr>>> results_;
    std::vector<std::thread::id> threads_;
};

TEST(SpeechService, SecondIdenticalRequestIsACacheHitWithTheSameAudio) {
    auto engine = std::make_shared<FakeTts>();
    SpeechService service(engine, 2, 8);
    Results results(2);
    service.synthesize("hello", "en", results.callback(0));
    ASSERT_TRUE(results.wait(1));
    service.synthesize("hello", "en", results.callback(1));
    ASSERT_TRUE(results.wait(2));
    auto first = results.at(0);
    auto second = results.at(1);
    ASSERT_TRUE(first.has_value() && second.has_value());
    EXPECT_EQ(first->get(), second->get());  // the very same buffer, not a copy
    EXPECT_EQ(engine->calls(), 1);
    EXPECT_EQ(service.cache_misses(), 1u);
    EXPECT_EQ(service.cache_hits(), 1u);
    // Even a hit is delivered on a worker, never inside synthesize().
    for (auto id : results.threads()) {
        EXPECT_NE(id, std::this_thread::get_id());
    }
}

TEST(SpeechService, CacheKeyIncludesLanguage) {
    auto engine = std::make_shared<FakeTts>();
    SpeechService service(engine, 1, 8);
    Results results(2);
    service.synthesize("hello", "en", results.callback(0));
    ASSERT_TRUE(results.wait(1));
    service.synthesize("hello", "nl", results.callback(1));
    ASSERT_TRUE(results.wait(2));
    EXPECT_EQ(engine->calls(), 2);
    EXPECT_EQ(service.cache_hits(), 0u);
}

TEST(SpeechService, ConcurrentIdenticalRequestsShareOneSynthesis) {
    auto engine = std::make_shared<FakeTts>();
    engine->close_gate();
    SpeechService service(engine, 4, 8);
    constexpr std::size_t kCallers = 20;
    Results results(kCallers);
    std::vector<std::thread> callers;
    for (std::size_t i = 0; i < kCallers; ++i) {
        callers.emplace_back([&, i] { service.synthesize("greeting", "en", results.callback(i)); });
    }
    for (auto& caller : callers) {
        caller.join();
    }
    ASSERT_TRUE(engine->wait_running(1));
    engine->open_gate();
    ASSERT_TRUE(results.wait(kCallers));
    EXPECT_EQ(engine->calls(), 1);
    auto first = results.at(0);
    ASSERT_TRUE(first.has_value());
    for (std::size_t i = 1; i < kCallers; ++i) {
        auto result = results.at(i);
        ASSERT_TRUE(result.has_value());
        EXPECT_EQ(result->get(), first->get());
    }
    EXPECT_EQ(service.cache_misses(), 1u);
    EXPECT_EQ(service.cache_hits(), kCallers - 1);
}

TEST(SpeechService, DestructorCompletesQueuedJobsWithUnavailable) {
    auto engine = std::make_shared<FakeTts>();
    engine->close_gate();
    Results results(4);
    {
        SpeechService service(engine, 1, 8);
        service.synthesize("running", "en", results.callback(0));
        ASSERT_TRUE(engine->wait_running(1));  // the only worker is busy from here on
        service.synthesize("queued one", "en", results.callback(1));
        service.synthesize("queued two", "en", results.callback(2));
        service.synthesize("queued one", "en", results.callback(3));  // coalesced with slot 1
        // Let the running synthesis finish only once the destructor has had ample time to mark
        // the service stopping (it then waits for this worker).
        std::thread release([&] {
            std::this_thread::sleep_for(300ms);
            engine->open_gate();
        });
        release.detach();
    }
    ASSERT_TRUE(results.wait(4));
    EXPECT_TRUE(results.at(0).has_value()) << "the synthesis in progress is delivered";
    for (std::size_t slot : {1u, 2u, 3u}) {
        auto result = results.at(slot);
        ASSERT_FALSE(result.has_value()) << slot;
        EXPECT_EQ(result.error().code, Errc::kUnavailable) << slot;
    }
    EXPECT_EQ(engine->calls(), 1);
}

TEST(SpeechService, FailuresAreDeliveredAndNotCached) {
    auto engine = std::make_shared<FakeTts>();
    SpeechService service(engine, 1, 8);
    Results results(4);
    engine->fail_next();
    service.synthesize("hello", "en", results.callback(0));
    ASSERT_TRUE(results.wait(1));
    service.synthesize("hello", "en", results.callback(1));
    ASSERT_TRUE(results.wait(2));
    service.synthesize("throw", "en", results.callback(2));
    ASSERT_TRUE(results.wait(3));
    auto failed = results.at(0);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, Errc::kInternal);
    EXPECT_TRUE(results.at(1).has_value());
    auto thrown = results.at(2);
    ASSERT_FALSE(thrown.has_value());
    EXPECT_EQ(thrown.error().code, Errc::kInternal);
    EXPECT_NE(thrown.error().message.find("engine exploded"), std::string::npos);
    EXPECT_EQ(engine->calls(), 3);
}

TEST(SpeechService, LeastRecentlyUsedEntryIsEvicted) {
    auto engine = std::make_shared<FakeTts>();
    SpeechService service(engine, 1, 2);
    Results results(6);
    std::size_t done = 0;
    auto request = [&](const char* text) {
        service.synthesize(text, "en", results.callback(done));
        ASSERT_TRUE(results.wait(++done));
    };
    request("a");  // miss
    request("b");  // miss
    request("a");  // hit: a is now the most recent
    request("c");  // miss, evicts b
    request("a");  // hit
    request("b");  // miss again
    EXPECT_EQ(engine->calls(), 4);
    EXPECT_EQ(service.cache_hits(), 2u);
    EXPECT_EQ(service.cache_misses(), 4u);
}

TEST(SpeechService, ThrowingCallbackDoesNotStopTheWorker) {
    auto engine = std::make_shared<FakeTts>();
    SpeechService service(engine, 1, 8);
    service.synthesize("x", "en", [](Result<PcmPtr>) { throw std::runtime_error("callback bug"); });
    Results results(1);
    service.synthesize("y", "en", results.callback(0));
    ASSERT_TRUE(results.wait(1));
    EXPECT_TRUE(results.at(0).has_value());
}

TEST(SpeechService, WithEspeakEmptyTextIsAnErrorAndTheGreetingIsCached) {
    SpeechService service(make_espeak_tts(), 2, 16);
    Results results(3);
    service.synthesize("", "en", results.callback(0));
    service.synthesize("Welcome to Acme support", "en", results.callback(1));
    ASSERT_TRUE(results.wait(2));
    service.synthesize("Welcome to Acme support", "en", results.callback(2));
    ASSERT_TRUE(results.wait(3));
    auto empty = results.at(0);
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, Errc::kInvalidRequest);
    auto first = results.at(1);
    auto second = results.at(2);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(first->get(), second->get());
    EXPECT_GT((*first)->size(), 8000u * 8 / 10);
    EXPECT_EQ(service.cache_hits(), 1u);
}

}  // namespace
}  // namespace tl::voice
