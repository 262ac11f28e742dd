#pragma once
// The assistant configuration document (api-contract.md §3): validation of create/PATCH bodies
// into the stored document, with secrets (webhook_secret, transfer destination passwords, tool
// server secrets) sealed as `*_sealed`, and the redacted view returned to clients.
// See docs/adr/0002-assistant-config-as-validated-document.md.

#include "common/error.hpp"
#include "store/secret_box.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace tl::api {

// Merges `body` onto `previous` (empty for a create) and returns the document to store. Fields
// present in `body` replace the stored ones whole; a sealed secret not resent is carried over
// (matched by destination sip_uri / tool name) so a GET -> edit -> PATCH round trip keeps it.
Result<boost::json::object> merge_assistant_document(const boost::json::object& body,
                                                     const boost::json::object& previous,
                                                     bool creating,
                                                     const store::SecretBox& secrets);

// A `recording` object ({enabled, channels}) of an assistant, or of an outbound call's request
// (which overrides the assistant's for that call); errors name fields under `path`.
Status validate_recording(const boost::json::object& recording, std::string_view path);

// The client view: `*_sealed` keys become `has_*: true`, and every documented field is present
// (null or its default when never set).
boost::json::object assistant_view(const boost::json::object& document);

}  // namespace tl::api
