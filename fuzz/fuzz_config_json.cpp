// Fuzzes the assistant document validation (api/assistant_document.hpp) with the input as a JSON
// body: as a create, then as a PATCH onto the created document, then the client view sent back
// as a PATCH (the GET -> edit -> PATCH round trip). Checks that secrets are only ever stored
// sealed, that the view never shows a sealed value, and that the round trip keeps the secrets.
//
// Secrets in seed inputs contain the marker FUZZSECRET; when the marker appears in the body only
// as secret values, neither the stored document nor the view may contain it.

#include "api/assistant_document.hpp"
#include "fuzz_check.hpp"
#include "secret_fields.hpp"
#include "store/secret_box.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;

constexpr std::string_view kMarker = "FUZZSECRET";
constexpr std::string_view kSealedPrefix = "tlsb1:";

const tl::store::SecretBox& secrets() {
    static const auto box =
        tl::store::SecretBox::from_keys(
            {tl::store::SecretBox::parse_key(std::string(64, '7')).value()})
            .value();
    return box;
}

std::size_t count(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

// Occurrences of the marker in every key and string of `value`, and in the secret values only.
void count_markers(const json::value& value, std::size_t& all) {
    if (value.is_string()) all += count(value.get_string(), kMarker);
    if (value.is_array()) {
        for (const auto& item : value.get_array()) count_markers(item, all);
    }
    if (value.is_object()) {
        for (const auto& [key, child] : value.get_object()) {
            all += count(key, kMarker);
            count_markers(child, all);
        }
    }
}

bool marker_only_in_secrets(const json::object& body) {
    std::size_t all = 0;
    count_markers(body, all);
    if (all == 0) return false;
    std::size_t in_secrets = 0;
    tl::fuzz::for_each_checked_member(
        body, "", [&](const std::string&, std::string_view key, const json::value& value) {
            if (tl::fuzz::is_secret_key(key) && value.is_string()) {
                in_secrets += count(value.get_string(), kMarker);
            }
        });
    return in_secrets == all;
}

bool has_sealed_key(const json::value& value) {
    if (value.is_array()) {
        for (const auto& item : value.get_array()) {
            if (has_sealed_key(item)) return true;
        }
    }
    if (value.is_object()) {
        for (const auto& [key, child] : value.get_object()) {
            if (key.ends_with("_sealed") || has_sealed_key(child)) return true;
        }
    }
    return false;
}

void check_document(const json::object& doc,
                    const json::object& body,
                    bool marker_is_secret,
                    std::string_view step) {
    const auto context = std::string(step) + ": " + std::string(json::serialize(body));
    tl::fuzz::for_each_checked_member(
        doc, "", [&](const std::string& path, std::string_view key, const json::value& value) {
            // Secrets are stored only as `*_sealed`, never in plaintext.
            TL_FUZZ_CHECK(!tl::fuzz::is_secret_key(key) || value.is_null(),
                          context + " -> plaintext secret at " + path);
            if (key.ends_with("_sealed")) {
                TL_FUZZ_CHECK(value.is_string() &&
                                  value.get_string().starts_with(kSealedPrefix) &&
                                  secrets().unseal(value.get_string()).has_value(),
                              context + " -> bad sealed value at " + path);
            }
        });
    const auto stored = json::serialize(doc);
    const auto view = tl::api::assistant_view(doc);
    const auto shown = json::serialize(view);
    TL_FUZZ_CHECK(!has_sealed_key(view), context + " -> view shows a sealed key: " + shown);
    if (json::serialize(body).find(kSealedPrefix) == std::string::npos) {
        TL_FUZZ_CHECK(shown.find(kSealedPrefix) == std::string::npos,
                      context + " -> view shows a sealed value: " + shown);
    }
    if (marker_is_secret) {
        TL_FUZZ_CHECK(stored.find(kMarker) == std::string::npos,
                      context + " -> plaintext secret stored: " + stored);
        TL_FUZZ_CHECK(shown.find(kMarker) == std::string::npos,
                      context + " -> plaintext secret shown: " + shown);
    }
}

// Every sealed value with its path ("llm_config.tools[0].destinations[1].password_sealed").
std::string sealed_values(const json::object& doc) {
    std::string out;
    tl::fuzz::for_each_checked_member(
        doc, "", [&](const std::string& path, std::string_view key, const json::value& value) {
            if (key.ends_with("_sealed")) out += path + "=" + json::serialize(value) + " ";
        });
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    boost::system::error_code ec;
    const auto value = json::parse(text, ec);
    if (ec || !value.is_object()) return 0;
    const auto& body = value.get_object();
    const bool marker_is_secret = marker_only_in_secrets(body);

    const auto& box = secrets();
    auto created = tl::api::merge_assistant_document(body, {}, true, box);
    if (!created) {
        TL_FUZZ_CHECK(!created.error().message.empty(), text);
        return 0;
    }
    check_document(*created, body, marker_is_secret, "create");

    // The same body as a PATCH validates the same way: it must succeed too.
    auto patched = tl::api::merge_assistant_document(body, *created, false, box);
    TL_FUZZ_CHECK(patched.has_value(),
                  std::string(text) + " -> PATCH failed: " + patched.error().message);
    check_document(*patched, body, marker_is_secret, "patch");

    // GET -> PATCH round trip: the view sent back is valid and keeps the stored secrets.
    const auto view = tl::api::assistant_view(*patched);
    auto round_trip = tl::api::merge_assistant_document(view, *patched, false, box);
    TL_FUZZ_CHECK(round_trip.has_value(), std::string(text) + " -> view " +
                                              std::string(json::serialize(view)) +
                                              " as PATCH failed: " + round_trip.error().message);
    check_document(*round_trip, view, false, "round trip");
    // Same secrets in the same places (a sealed value is random, so equal means carried over).
    const auto before = sealed_values(*patched);
    const auto after = sealed_values(*round_trip);
    TL_FUZZ_CHECK(before == after, std::string(text) + " -> round trip changed the secrets: | " +
                                       before + "became | " + after);
    return 0;
}
