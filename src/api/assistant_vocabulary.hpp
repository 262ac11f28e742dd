#pragma once
// Words an assistant listens for that the embedded recogniser cannot hear (docs/listening.md
// "Understanding offline"): PocketSphinx knows the words of its English dictionary only, so a
// scripted rule's phrase with another word ("acme", "4g") is never heard. Said when the assistant
// is saved, naming the words, rather than discovered on a call.
//
// Thread-safety: stateless but for a process-wide cache of the dictionary's words (locked).

#include <boost/json/object.hpp>
#include <string>
#include <vector>

namespace tl::api {

// Sentences for the assistant's `warnings`: one when its stt is the embedded recogniser and
// `llm_config.rules[*].when` holds words outside the dictionary. Empty otherwise.
std::vector<std::string> vocabulary_warnings(const boost::json::object& document);

}  // namespace tl::api
