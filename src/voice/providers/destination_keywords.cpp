#include "voice/providers/destination_keywords.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

#include "voice/providers/scripted_llm.hpp"

namespace tl::voice {
namespace {

// Function words and words of any request: they say nothing about where the caller wants to go.
constexpr std::array<std::string_view, 96> kNotKeywords = {
    "a",        "an",       "the",       "for",      "and",      "or",        "of",       "to",
    "in",       "on",       "at",       "by",        "with",     "about",    "from",      "into",
    "your",     "our",      "my",       "their",     "its",      "his",      "her",       "you",
    "we",       "us",       "they",     "them",      "it",       "i",        "me",        "is",
    "are",      "be",       "was",      "were",      "this",     "that",     "these",     "those",
    "any",      "all",      "other",    "others",    "etc",      "eg",       "ie",        "e",
    "g",        "team",     "department", "dept",    "desk",     "line",     "office",    "people",
    "person",   "staff",    "someone",  "call",      "calls",    "caller",   "callers",   "transfer",
    "question", "questions", "help",    "general",   "enquiries", "inquiries", "issue",   "issues",
    "want",     "wants",    "need",     "needs",     "who",      "what",     "when",      "where",
    "how",      "if",       "not",      "no",        "yes",      "please",   "can",       "will",
    "do",       "does",     "have",     "has",       "get",      "talk",     "speak",     "reach",
};

bool is_keyword_word(const std::string& word) {
    return word.size() > 1 &&
           std::find(kNotKeywords.begin(), kNotKeywords.end(), word) == kNotKeywords.end() &&
           !std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

// "quotes" -> "quote", "invoices" -> "invoice"; "address" and short words stay as they are.
std::string singular(const std::string& word) {
    if (word.size() >= 4 && word.back() == 's' && word[word.size() - 2] != 's') {
        return word.substr(0, word.size() - 1);
    }
    return word;
}

std::string label_text(const std::string& description) {
    std::size_t end = description.size();
    for (std::string_view separator : {" - ", ":", ";", ",", "(", ".", " \xE2\x80\x93 "}) {
        end = std::min(end, description.find(separator));
    }
    return description.substr(0, end);
}

}  // namespace

std::string destination_label(const TransferDestination& destination) {
    auto words = scripted_words(label_text(destination.description));
    if (words.empty() || words.size() > 5) {
        // No usable name: the caller hears the number or address instead.
        return destination.key.substr(0, destination.key.find('#'));
    }
    return join(words);
}

std::vector<DestinationKeywords> destination_keywords(const ConfiguredTool& tool) {
    std::vector<DestinationKeywords> out;
    std::map<std::string, std::set<std::size_t>> owners;  // keyword -> destinations using it
    for (const auto& d : tool.destinations) {
        DestinationKeywords entry;
        entry.destination = d.index;
        entry.label = destination_label(d);
        std::vector<std::string> phrases;
        const auto label_words = scripted_words(label_text(d.description));
        std::vector<std::string> content;
        for (const auto& w : label_words) {
            if (is_keyword_word(w)) content.push_back(w);
        }
        if (content.size() > 1 && content.size() <= 3) phrases.push_back(join(content));
        for (const auto& w : scripted_words(d.description)) {
            if (!is_keyword_word(w)) continue;
            phrases.push_back(w);
            // The name is said as it is ("sales" is not "sale"); the rest of the description is
            // said either way ("a quote", "quotes").
            const bool in_label = std::find(label_words.begin(), label_words.end(), w) !=
                                  label_words.end();
            if (auto one = singular(w); one != w && !in_label) phrases.push_back(one);
        }
        for (auto& p : phrases) {
            if (std::find(entry.keywords.begin(), entry.keywords.end(), p) != entry.keywords.end()) {
                continue;
            }
            owners[p].insert(d.index);
            entry.keywords.push_back(std::move(p));
        }
        out.push_back(std::move(entry));
    }
    for (auto& entry : out) {
        std::erase_if(entry.keywords,
                      [&](const std::string& k) { return owners[k].size() > 1; });
    }
    return out;
}

}  // namespace tl::voice
