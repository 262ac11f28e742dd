#include "voice/providers/scripted_llm.hpp"

#include "voice/providers/destination_keywords.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <cctype>
#include <initializer_list>
#include <set>

namespace tl::voice {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxRules = 100;
constexpr std::size_t kMaxPhrases = 50;
constexpr std::size_t kMaxPhraseBytes = 100;
constexpr std::size_t kMaxReplyBytes = 4096;

Error invalid(const std::string& path, const std::string& why) {
    return make_error(Errc::kInvalidRequest, path + " " + why, path);
}

Error missing(const std::string& path) {
    return make_error(Errc::kMissingField, path + " is required", path);
}

Status only(const json::object& o,
            const std::string& path,
            std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : o) {
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            const auto field = path + "." + std::string(key);
            return make_error(Errc::kUnknownField, field + " is not a known field", field);
        }
    }
    return {};
}

// A string field: absent -> "" (unless required), else 1..max bytes.
Result<std::string> text_field(const json::object& o,
                               std::string_view key,
                               const std::string& path,
                               std::size_t max,
                               bool required) {
    const auto field = path + "." + std::string(key);
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        if (required) return missing(field);
        return std::string();
    }
    if (!v->is_string()) return invalid(field, "must be a string");
    if (v->get_string().empty() || v->get_string().size() > max) {
        return invalid(field, fmt::format("must hold 1 to {} bytes", max));
    }
    return std::string(v->get_string());
}

bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '\'' || c >= 0x80; }

bool contains_phrase(const std::vector<std::string>& words,
                     const std::vector<std::string>& phrase) {
    if (phrase.empty() || phrase.size() > words.size()) return false;
    return std::search(words.begin(), words.end(), phrase.begin(), phrase.end()) != words.end();
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

// The destination a rule names (see the schema in the header).
Result<std::string> rule_destination(const json::value& v,
                                     const ConfiguredTool& tool,
                                     const std::string& path) {
    if (v.is_int64() || v.is_uint64()) {
        const auto i = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
        if (i < 0 || static_cast<std::size_t>(i) >= tool.destinations.size()) {
            return invalid(path, fmt::format("must be a destination index from 0 to {}",
                                             tool.destinations.size() - 1));
        }
        return tool.destinations[static_cast<std::size_t>(i)].key;
    }
    if (!v.is_string() || v.get_string().empty()) {
        return invalid(path, "must be a destination index, number, SIP URI or description word");
    }
    const std::string_view wanted = v.get_string();
    for (const auto& d : tool.destinations) {
        if (iequals(d.key, wanted)) return d.key;
    }
    const auto phrase = scripted_words(wanted);
    const TransferDestination* found = nullptr;
    for (const auto& d : tool.destinations) {
        if (!contains_phrase(scripted_words(d.description), phrase)) continue;
        if (found != nullptr) {
            return invalid(path, fmt::format("'{}' is in the description of more than one "
                                             "destination; use the destination's index",
                                             wanted));
        }
        found = &d;
    }
    if (found == nullptr) {
        return invalid(path, fmt::format("'{}' names no destination of {} (not an index, number, "
                                         "SIP URI or word of a description)",
                                         wanted, tool.definition.name));
    }
    return found->key;
}

Result<ToolCall> rule_tool(const json::value& v, const ToolSet& tools, const std::string& path) {
    if (!v.is_object()) return invalid(path, "must be an object");
    const auto& o = v.get_object();
    if (auto st = only(o, path, {"name", "destination", "arguments"}); !st) return st.error();
    auto name = text_field(o, "name", path, 64, true);
    if (!name) return name.error();
    const auto* tool = tools.find(*name);
    if (tool == nullptr) {
        std::string known;
        for (const auto& t : tools.tools())
            known += (known.empty() ? "" : ", ") + t.definition.name;
        return invalid(
            path + ".name",
            fmt::format("'{}' is not a tool of this assistant ({})", *name,
                        known.empty() ? "llm_config.tools is empty" : "tools: " + known));
    }
    ToolCall call;
    call.name = *name;
    const auto* destination = o.if_contains("destination");
    const auto* arguments = o.if_contains("arguments");
    switch (tool->kind) {
        case ToolKind::kTransferCall: {
            if (arguments != nullptr) {
                return invalid(path + ".arguments", "is for function tools; use destination");
            }
            if (destination == nullptr || destination->is_null()) {
                return missing(path + ".destination");
            }
            auto key = rule_destination(*destination, *tool, path + ".destination");
            if (!key) return key.error();
            call.arguments["destination"] = *key;
            break;
        }
        case ToolKind::kEndCall:
            if (destination != nullptr)
                return invalid(path + ".destination", "is for transfer_call");
            if (arguments != nullptr) return invalid(path + ".arguments", "is for function tools");
            break;
        case ToolKind::kFunction:
            if (destination != nullptr)
                return invalid(path + ".destination", "is for transfer_call");
            if (arguments != nullptr && !arguments->is_null()) {
                if (!arguments->is_object())
                    return invalid(path + ".arguments", "must be an object");
                call.arguments = arguments->get_object();
            }
            break;
    }
    return call;
}

Result<ScriptedRule> parse_rule(const json::value& v,
                                const ToolSet& tools,
                                const std::string& path) {
    if (!v.is_object()) return invalid(path, "must be an object");
    const auto& o = v.get_object();
    if (auto st = only(o, path, {"when", "reply", "tool"}); !st) return st.error();
    ScriptedRule rule;
    const auto* when = o.if_contains("when");
    if (when == nullptr || when->is_null()) return missing(path + ".when");
    if (!when->is_array() || when->get_array().empty() || when->get_array().size() > kMaxPhrases) {
        return invalid(path + ".when",
                       fmt::format("must be an array of 1 to {} words or phrases", kMaxPhrases));
    }
    for (std::size_t i = 0; i < when->get_array().size(); ++i) {
        const auto& p = when->get_array()[i];
        const auto ppath = fmt::format("{}.when[{}]", path, i);
        if (!p.is_string() || p.get_string().empty() || p.get_string().size() > kMaxPhraseBytes) {
            return invalid(ppath,
                           fmt::format("must be a string of 1 to {} bytes", kMaxPhraseBytes));
        }
        auto words = scripted_words(p.get_string());
        if (words.empty()) return invalid(ppath, "holds no word (letters or digits)");
        rule.phrases.push_back(std::move(words));
    }
    auto reply = text_field(o, "reply", path, kMaxReplyBytes, false);
    if (!reply) return reply.error();
    rule.reply = std::move(*reply);
    if (const auto* t = o.if_contains("tool"); t && !t->is_null()) {
        auto call = rule_tool(*t, tools, path + ".tool");
        if (!call) return call.error();
        rule.tool = std::move(*call);
    }
    if (rule.reply.empty() && !rule.tool) return invalid(path, "needs a reply, a tool or both");
    return rule;
}

// ASCII and Latin-1 (U+00C0-U+00DE but U+00D7, two bytes in UTF-8) lower case.
std::string lower_word(std::string_view word) {
    std::string out;
    out.reserve(word.size());
    for (std::size_t i = 0; i < word.size(); ++i) {
        const auto c = static_cast<unsigned char>(word[i]);
        if (c == 0xC3 && i + 1 < word.size()) {
            auto next = static_cast<unsigned char>(word[i + 1]);
            if (next >= 0x80 && next <= 0x9E && next != 0x97) next += 0x20;
            out.push_back(static_cast<char>(c));
            out.push_back(static_cast<char>(next));
            ++i;
            continue;
        }
        out.push_back(static_cast<char>(std::tolower(c)));
    }
    return out;
}

class ScriptedReplyStream final : public ReplyStream {
public:
    void cancel() override { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }

private:
    std::atomic<bool> cancelled_{false};
};

class ScriptedLanguageModel final : public LanguageModel {
public:
    ScriptedLanguageModel(boost::asio::any_io_executor executor, ScriptedConfig config)
        : executor_(std::move(executor)), config_(std::move(config)) {}

    std::shared_ptr<ReplyStream> reply(ChatRequest request, ReplyHandler handler) override {
        auto stream = std::make_shared<ScriptedReplyStream>();
        auto answer = scripted_reply(config_, request.messages);
        if (answer.tool) answer.tool->id = fmt::format("scripted_{}", ++next_id_);
        boost::asio::post(executor_, [stream, answer = std::move(answer),
                                      handler = std::move(handler)]() mutable {
            if (stream->cancelled()) return;
            if (!answer.text.empty() && handler.on_text) handler.on_text(answer.text);
            if (stream->cancelled()) return;
            if (answer.tool && handler.on_tool_call) handler.on_tool_call(std::move(*answer.tool));
            if (stream->cancelled()) return;
            if (handler.on_done) {
                handler.on_done(answer.tool ? FinishReason::kToolCalls : FinishReason::kStop);
            }
        });
        return stream;
    }

    std::string name() const override { return "scripted"; }

private:
    boost::asio::any_io_executor executor_;
    const ScriptedConfig config_;
    std::atomic<std::uint64_t> next_id_{0};
};

}  // namespace

std::vector<std::string> scripted_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && !is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
        std::size_t end = i;
        while (end < text.size() && is_word_byte(static_cast<unsigned char>(text[end]))) ++end;
        auto word = text.substr(i, end - i);
        // Quotes around a word are not part of it: 'sales' is sales.
        while (!word.empty() && word.front() == '\'') word.remove_prefix(1);
        while (!word.empty() && word.back() == '\'') word.remove_suffix(1);
        if (!word.empty()) words.push_back(lower_word(word));
        i = end;
    }
    return words;
}

std::vector<std::string> ScriptedConfig::vocabulary() const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& rule : rules) {
        for (const auto& phrase : rule.phrases) {
            auto p = join(phrase);
            if (seen.insert(p).second) out.push_back(std::move(p));
        }
    }
    for (const auto& route : routes) {
        for (const auto& phrase : route.phrases) {
            auto p = join(phrase);
            if (seen.insert(p).second) out.push_back(std::move(p));
        }
    }
    return out;
}

Result<ScriptedConfig> parse_scripted_config(const json::object& llm_config,
                                             const std::string& path) {
    ScriptedConfig config;
    json::array no_tools;
    const json::array* tools = &no_tools;
    if (const auto* t = llm_config.if_contains("tools"); t && !t->is_null()) {
        if (!t->is_array()) return invalid(path + ".tools", "must be an array");
        tools = &t->get_array();
    }
    auto tool_set = ToolSet::from_config(*tools, path + ".tools");
    if (!tool_set) return tool_set.error();
    config.tools = std::move(*tool_set);

    const auto rules_path = path + ".rules";
    const auto* rules = llm_config.if_contains("rules");
    if (rules == nullptr || rules->is_null()) return missing(rules_path);
    if (!rules->is_array() || rules->get_array().empty() || rules->get_array().size() > kMaxRules) {
        return invalid(rules_path, fmt::format("must be an array of 1 to {} rules", kMaxRules));
    }
    for (std::size_t i = 0; i < rules->get_array().size(); ++i) {
        auto rule =
            parse_rule(rules->get_array()[i], config.tools, fmt::format("{}[{}]", rules_path, i));
        if (!rule) return rule.error();
        config.rules.push_back(std::move(*rule));
    }
    for (const auto& tool : config.tools.tools()) {
        if (tool.kind != ToolKind::kTransferCall) continue;
        for (const auto& entry : destination_keywords(tool)) {
            ScriptedRoute route;
            for (const auto& k : entry.keywords) route.phrases.push_back(scripted_words(k));
            if (route.phrases.empty()) continue;
            route.tool.name = tool.definition.name;
            route.tool.arguments["destination"] = tool.destinations[entry.destination].key;
            config.routes.push_back(std::move(route));
        }
    }
    auto fallback = text_field(llm_config, "default_reply", path, kMaxReplyBytes, false);
    if (!fallback) return fallback.error();
    config.default_reply = std::move(*fallback);
    return config;
}

ScriptedReply scripted_reply(const ScriptedConfig& config,
                             const std::vector<ChatMessage>& messages) {
    const ChatMessage* last = nullptr;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        if (it->role != Role::kSystem) {
            last = &*it;
            break;
        }
    }
    ScriptedReply out;
    if (last == nullptr || last->role != Role::kUser) return out;
    const auto words = scripted_words(last->content);
    for (const auto& rule : config.rules) {
        const bool hit = std::any_of(rule.phrases.begin(), rule.phrases.end(),
                                     [&](const auto& p) { return contains_phrase(words, p); });
        if (!hit) continue;
        out.text = rule.reply;
        out.tool = rule.tool;
        out.rule = &rule;
        return out;
    }
    // No rule: a destination the caller named, when exactly one was named.
    const ScriptedRoute* named = nullptr;
    for (const auto& route : config.routes) {
        const bool hit = std::any_of(route.phrases.begin(), route.phrases.end(),
                                     [&](const auto& p) { return contains_phrase(words, p); });
        if (!hit) continue;
        if (named != nullptr && named->tool.arguments != route.tool.arguments) {
            named = nullptr;  // two destinations named: ask again rather than guess
            break;
        }
        named = &route;
    }
    if (named != nullptr) {
        out.tool = named->tool;
        return out;
    }
    out.text = config.default_reply;
    return out;
}

std::shared_ptr<LanguageModel> make_scripted_language_model(boost::asio::any_io_executor executor,
                                                            ScriptedConfig config) {
    return std::make_shared<ScriptedLanguageModel>(std::move(executor), std::move(config));
}

}  // namespace tl::voice
