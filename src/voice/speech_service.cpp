// SpeechService: a fixed pool of workers draining one job queue, an LRU cache of finished audio,
// and coalescing of identical requests in flight (a greeting requested by 50 calls arriving at
// once is synthesised once). Every `done` runs on a worker thread, cache hits included, so a
// caller never sees its callback re-entered from inside synthesize().

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "voice/text_to_speech.hpp"

namespace tl::voice {
namespace {

// The cache holds at most this much audio in total besides its entry limit, so a few very long
// prompts cannot pin unbounded memory: 10 minutes at 8 kHz, 9.6 MB.
constexpr std::size_t kMaxCachedSamples = 8000 * 600;

}  // namespace

struct SpeechService::Impl {
    // A queued unit of work: either a synthesis of `key` (whose waiters sit in `waiting_`), or the
    // delivery of an already known result (a cache hit) to `done`.
    struct Job {
        std::string key;
        std::string text;
        std::string language;
        Done done;     // set for a delivery
        PcmPtr audio;  // the result for a delivery
    };

    using Lru = std::list<std::pair<std::string, PcmPtr>>;  // front = most recently used

    std::shared_ptr<TextToSpeech> engine;
    std::string engine_name;
    std::size_t cache_capacity = 0;

    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::deque<Job> queue;
    std::unordered_map<std::string, std::vector<Done>> waiting;  // key -> callers of one synthesis
    Lru lru;
    std::unordered_map<std::string, Lru::iterator> index;
    std::size_t cached_samples = 0;
    std::size_t hits = 0;
    std::size_t misses = 0;
    std::vector<std::thread> workers;

    // Length-prefixed so no text can collide with another (engine, language, text) triple.
    std::string make_key(const std::string& language, const std::string& text) const {
        std::string key;
        key.reserve(engine_name.size() + language.size() + text.size() + 24);
        for (const std::string* part : {&engine_name, &language, &text}) {
            key += std::to_string(part->size());
            key += ':';
            key += *part;
        }
        return key;
    }

    // Called with `mutex` held.
    PcmPtr lookup(const std::string& key) {
        auto it = index.find(key);
        if (it == index.end()) {
            return nullptr;
        }
        lru.splice(lru.begin(), lru, it->second);
        return it->second->second;
    }

    // Called with `mutex` held.
    void insert(const std::string& key, const PcmPtr& audio) {
        if (cache_capacity == 0 || audio->size() > kMaxCachedSamples || index.contains(key)) {
            return;
        }
        lru.emplace_front(key, audio);
        index.emplace(key, lru.begin());
        cached_samples += audio->size();
        while (lru.size() > cache_capacity || cached_samples > kMaxCachedSamples) {
            cached_samples -= lru.back().second->size();
            index.erase(lru.back().first);
            lru.pop_back();
        }
    }

    static void deliver(const Done& done, Result<PcmPtr> result) {
        try {
            done(std::move(result));
        } catch (const std::exception& e) {
            // A throwing callback must not take the worker (and the process) down with it.
            spdlog::error("speech service: completion callback threw: {}", e.what());
        } catch (...) {
            spdlog::error("speech service: completion callback threw");
        }
    }

    Result<PcmPtr> run_engine(const Job& job) {
        try {
            auto result = engine->synthesize(job.text, job.language);
            if (result && !*result) {
                return make_error(Errc::kInternal, engine_name + " returned no audio");
            }
            return result;
        } catch (const std::exception& e) {
            return make_error(Errc::kInternal, engine_name + " failed: " + e.what());
        } catch (...) {
            return make_error(Errc::kInternal, engine_name + " failed");
        }
    }

    void work() {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return stopping || !queue.empty(); });
            if (stopping) {
                return;  // the destructor completes whatever is still queued
            }
            Job job = std::move(queue.front());
            queue.pop_front();
            if (job.done) {
                lock.unlock();
                deliver(job.done, std::move(job.audio));
                lock.lock();
                continue;
            }
            lock.unlock();
            Result<PcmPtr> result = run_engine(job);
            lock.lock();
            if (result) {
                insert(job.key, *result);
            }
            auto node = waiting.extract(job.key);
            lock.unlock();
            if (!node.empty()) {
                for (const Done& done : node.mapped()) {
                    deliver(done, result);
                }
            }
            lock.lock();
        }
    }
};

SpeechService::SpeechService(std::shared_ptr<TextToSpeech> engine,
                             std::size_t workers,
                             std::size_t cache_entries)
    : impl_(std::make_unique<Impl>()) {
    impl_->engine = std::move(engine);
    impl_->engine_name = impl_->engine->name();
    impl_->cache_capacity = cache_entries;
    const std::size_t count = std::max<std::size_t>(workers, 1);
    impl_->workers.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        impl_->workers.emplace_back([impl = impl_.get()] { impl->work(); });
    }
}

SpeechService::~SpeechService() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    // A synthesis already running finishes and is delivered; queued ones are not started.
    for (auto& worker : impl_->workers) {
        worker.join();
    }
    // No worker is left, so no lock is needed from here on.
    for (auto& job : impl_->queue) {
        if (job.done) {
            Impl::deliver(job.done, std::move(job.audio));  // a cache hit: its answer is known
        }
    }
    impl_->queue.clear();
    for (auto& [key, callers] : impl_->waiting) {
        for (const Done& done : callers) {
            Impl::deliver(done, make_error(Errc::kUnavailable, "speech service is shutting down"));
        }
    }
    impl_->waiting.clear();
}

void SpeechService::synthesize(std::string text, std::string language, Done done) {
    Impl& impl = *impl_;
    std::unique_lock lock(impl.mutex);
    std::string key = impl.make_key(language, text);
    if (PcmPtr audio = impl.lookup(key)) {
        ++impl.hits;
        impl.queue.push_back(Impl::Job{{}, {}, {}, std::move(done), std::move(audio)});
    } else if (auto it = impl.waiting.find(key); it != impl.waiting.end()) {
        ++impl.hits;  // joins the synthesis in flight: no extra engine call
        it->second.push_back(std::move(done));
        return;
    } else {
        ++impl.misses;
        impl.waiting[key].push_back(std::move(done));
        impl.queue.push_back(
            Impl::Job{std::move(key), std::move(text), std::move(language), {}, {}});
    }
    lock.unlock();
    impl.wake.notify_one();
}

std::size_t SpeechService::cache_hits() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->hits;
}

std::size_t SpeechService::cache_misses() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->misses;
}

}  // namespace tl::voice
