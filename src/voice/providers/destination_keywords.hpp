#pragma once
// What a caller says to ask for a transfer destination, derived from how the assistant describes
// it ("Sales team - for pricing and quotes"), so the embedded recogniser listens for words a
// caller uses ("sales", "pricing", "quotes") rather than the whole description as one phrase,
// and the scripted model can route on them without a rule per word (docs/listening.md).
//
// Derivation, per destination of one transfer_call tool:
//   - the label: the description up to its first separator (" - ", ":", ";", ",", "(", "."),
//     lower-cased ("sales team"); the destination's number or SIP URI when there is no
//     description;
//   - keywords: the label's own words as a phrase when it has two or three ("technical
//     support"), and every word of the description that is not a function word or a word common
//     to requests ("for", "and", "team", "help", "please"), outside the label with its singular
//     too ("quotes" -> "quote");
//   - a keyword found for more than one destination of the tool is dropped from all of them: it
//     cannot tell them apart ("problems" in "support - technical problems" and "billing -
//     payment problems").

#include <string>
#include <vector>

#include "voice/providers/tool_set.hpp"

namespace tl::voice {

struct DestinationKeywords {
    std::size_t destination = 0;        // index in the tool's destinations
    std::string label;                  // "sales team": what the assistant calls it aloud
    std::vector<std::string> keywords;  // normalised phrases, the label first when usable
};

// One entry per destination of `tool` (a transfer_call tool), in destination order.
std::vector<DestinationKeywords> destination_keywords(const ConfiguredTool& tool);

// The label alone (see above).
std::string destination_label(const TransferDestination& destination);

}  // namespace tl::voice
