#include "api/assistant_vocabulary.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <mutex>
#include <set>

#include "voice/listening/sphinx_decoder.hpp"
#include "voice/providers/openai_settings.hpp"
#include "voice/providers/scripted_llm.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

const json::object* object_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// Each word is looked up once per process: reading the 134,000-word dictionary takes tens of
// milliseconds, a save should not.
class KnownWords {
public:
    // The words of `words` the dictionary lacks; empty when the dictionary is not installed (the
    // model's absence is reported on a call and by the assistant check, not as unknown words).
    std::vector<std::string> missing(const std::set<std::string>& words) {
        std::lock_guard lock(mutex_);
        std::vector<std::string> unknown;
        for (const auto& w : words) {
            if (!known_.contains(w) && !lacking_.contains(w)) unknown.push_back(w);
        }
        if (!unknown.empty()) {
            auto lookup = voice::SphinxDecoder::look_up(unknown, {});
            if (!lookup) return {};
            for (const auto& w : lookup->missing) lacking_.insert(w);
            for (const auto& w : unknown) {
                if (!lacking_.contains(w)) known_.insert(w);
            }
        }
        std::vector<std::string> out;
        for (const auto& w : words) {
            if (lacking_.contains(w)) out.push_back(w);
        }
        return out;
    }

private:
    std::mutex mutex_;
    std::set<std::string> known_;
    std::set<std::string> lacking_;
};

KnownWords& known_words() {
    static KnownWords words;
    return words;
}

}  // namespace

std::vector<std::string> vocabulary_warnings(const json::object& document) {
    const auto* stt = object_at(document, "stt_config");
    if (stt != nullptr) {
        const auto* provider = stt->if_contains("provider");
        if (provider != nullptr && provider->is_string() &&
            voice::is_openai_compatible_provider(provider->get_string())) {
            return {};  // an open-vocabulary recogniser hears any word
        }
    }
    const auto* llm = object_at(document, "llm_config");
    const auto* rules = llm != nullptr ? llm->if_contains("rules") : nullptr;
    if (rules == nullptr || !rules->is_array()) return {};
    std::set<std::string> words;
    for (const auto& rule : rules->get_array()) {
        const auto* when = rule.is_object() ? rule.get_object().if_contains("when") : nullptr;
        if (when == nullptr || !when->is_array()) continue;
        for (const auto& phrase : when->get_array()) {
            if (!phrase.is_string()) continue;
            for (auto& w : voice::scripted_words(phrase.get_string())) {
                // A lone digit is a key press, not a word to hear.
                if (w.size() == 1 && w[0] >= '0' && w[0] <= '9') continue;
                words.insert(std::move(w));
            }
        }
    }
    const auto missing = known_words().missing(words);
    if (missing.empty()) return {};
    std::string list;
    for (const auto& w : missing) list += (list.empty() ? "'" : ", '") + w + "'";
    return {fmt::format(
        "stt_config: the embedded recogniser (pocketsphinx) does not know {} (in "
        "llm_config.rules[].when): phrases with {} are never heard; use words of its English "
        "dictionary, or an OpenAI-compatible stt_config",
        list, missing.size() == 1 ? "this word" : "these words")};
}

}  // namespace tl::api
