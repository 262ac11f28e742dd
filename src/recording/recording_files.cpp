#include "recording/recording_files.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <optional>
#include <system_error>

namespace tl::recording {
namespace {

constexpr std::string_view kKeyContext = "trunkline-recording-v1:";
constexpr std::string_view kPartial = ".partial";
constexpr std::size_t kWavHeaderBytes = 44;
constexpr auto kAbandonedPartial = std::chrono::hours(1);

// A path component from an id: ids of calls are UUIDs, organization ids are chosen by the
// operator (`trunkline keys create --org`), so anything beyond [A-Za-z0-9_-] is hex-encoded.
std::string safe_component(std::string_view id) {
    const bool plain = !id.empty() && id.size() <= 128 && id != "." && id != ".." &&
                       id.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789-_") == std::string_view::npos;
    if (plain) return std::string(id);
    std::string out = "x";
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : id.substr(0, 100)) {
        out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
        out.push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
    }
    return out;
}

std::string extension(Format format) {
    return format == Format::kOgg ? ".ogg.sealed" : ".wav.sealed";
}

std::optional<std::chrono::system_clock::time_point> modified(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) +
            std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

void put32(std::string& out, std::size_t at, std::uint64_t value) {
    const auto v = static_cast<std::uint32_t>(std::min<std::uint64_t>(value, 0xFFFFFFFFull));
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

std::string_view to_string(Format format) { return format == Format::kOgg ? "ogg" : "wav"; }

std::string_view content_type(Format format) {
    return format == Format::kOgg ? "audio/ogg" : "audio/wav";
}

RecordingFiles::RecordingFiles(std::filesystem::path root, const store::SecretBox& secrets)
    : root_(std::move(root)), secrets_(secrets) {}

std::filesystem::path RecordingFiles::directory(std::string_view org_id) const {
    return root_ / safe_component(org_id);
}

std::filesystem::path RecordingFiles::path(std::string_view org_id,
                                           std::string_view call_id,
                                           Format format) const {
    return directory(org_id) / (safe_component(call_id) + extension(format));
}

std::filesystem::path RecordingFiles::partial_path(std::string_view org_id,
                                                   std::string_view call_id,
                                                   Format format) const {
    return directory(org_id) /
           (safe_component(call_id) + extension(format) + std::string(kPartial));
}

std::string RecordingFiles::binding(std::string_view org_id,
                                    std::string_view call_id,
                                    Format format) {
    return std::string(org_id) + "/" + std::string(call_id) + "/" + std::string(to_string(format));
}

bool RecordingFiles::exists(std::string_view org_id,
                            std::string_view call_id,
                            Format format) const {
    std::error_code ec;
    return std::filesystem::is_regular_file(path(org_id, call_id, format), ec);
}

bool RecordingFiles::in_progress(std::string_view org_id, std::string_view call_id) const {
    std::error_code ec;
    return std::filesystem::exists(partial_path(org_id, call_id, Format::kWav), ec) ||
           std::filesystem::exists(partial_path(org_id, call_id, Format::kOgg), ec);
}

Result<store::SecretBox::DerivedKey> RecordingFiles::data_key(
    std::string_view org_id, std::string_view master_key_id) const {
    std::string context(kKeyContext);
    context += org_id;
    return secrets_.derive_key(context, master_key_id);
}

Result<std::string> RecordingFiles::read(std::string_view org_id,
                                         std::string_view call_id,
                                         Format format) const {
    const KeyLookup key_for = [&](std::string_view master_key_id) -> Result<DataKey> {
        auto key = data_key(org_id, master_key_id);
        if (!key) return make_error(Errc::kInternal, key.error().message);
        DataKey bytes = key->bytes;
        sodium_memzero(key->bytes.data(), key->bytes.size());
        return bytes;
    };
    auto plain =
        open_sealed_file(path(org_id, call_id, format), key_for, binding(org_id, call_id, format));
    if (!plain) return plain.error();
    if (format == Format::kWav) {
        if (plain->size() < kWavHeaderBytes || plain->compare(0, 4, "RIFF") != 0) {
            return make_error(Errc::kInternal, "the recording is damaged: no WAV header");
        }
        put32(*plain, 4, plain->size() - 8);
        put32(*plain, 40, plain->size() - kWavHeaderBytes);
    }
    return plain;
}

Result<int> RecordingFiles::remove(std::string_view org_id, std::string_view call_id) const {
    int removed = 0;
    for (const auto format : {Format::kWav, Format::kOgg}) {
        for (const auto& file :
             {path(org_id, call_id, format), partial_path(org_id, call_id, format)}) {
            std::error_code ec;
            if (std::filesystem::remove(file, ec)) ++removed;
            if (ec)
                return make_error(Errc::kInternal,
                                  "cannot remove " + file.string() + ": " + ec.message());
        }
    }
    return removed;
}

Result<int> RecordingFiles::purge_before(std::chrono::system_clock::time_point cutoff,
                                         std::chrono::system_clock::time_point now) const {
    int removed = 0;
    std::error_code ec;
    if (!std::filesystem::exists(root_, ec)) return 0;
    for (auto org = std::filesystem::directory_iterator(root_, ec);
         !ec && org != std::filesystem::directory_iterator(); org.increment(ec)) {
        if (!org->is_directory(ec)) continue;
        std::error_code inner;
        for (auto file = std::filesystem::directory_iterator(org->path(), inner);
             !inner && file != std::filesystem::directory_iterator(); file.increment(inner)) {
            const auto& p = file->path();
            const auto name = p.filename().string();
            const bool partial = name.ends_with(kPartial);
            if (!partial && !name.ends_with(".sealed")) continue;
            const auto written = modified(p);
            if (!written) continue;
            const bool expired = partial ? *written < now - kAbandonedPartial : *written < cutoff;
            std::error_code rm;
            if (expired && std::filesystem::remove(p, rm)) ++removed;
        }
        if (inner)
            return make_error(Errc::kInternal,
                              "cannot list " + org->path().string() + ": " + inner.message());
    }
    if (ec)
        return make_error(Errc::kInternal, "cannot list " + root_.string() + ": " + ec.message());
    return removed;
}

}  // namespace tl::recording
