#pragma once
// Where recordings live and how they are opened: `<root>/<org>/<call>.wav.sealed` (and
// `.ogg.sealed`), each sealed with the organization's data key (sealed_file.hpp). While a call is
// recorded its files carry a `.partial` suffix; they are renamed when complete, so a file
// without it is always whole.
//
// The data key of an organization is derived from the server's master key (SecretBox::derive_key
// with the context "trunkline-recording-v1:<org id>"): one key per organization, nothing new to
// store or back up, and a retired master key still opens the recordings it sealed.
//
// Thread-safety: immutable after construction; every method may run concurrently.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "recording/sealed_file.hpp"
#include "store/secret_box.hpp"

namespace tl::recording {

enum class Format { kWav, kOgg };

std::string_view to_string(Format format);
std::string_view content_type(Format format);

class RecordingFiles {
public:
    RecordingFiles(std::filesystem::path root, const store::SecretBox& secrets);

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path path(std::string_view org_id,
                               std::string_view call_id,
                               Format format) const;
    std::filesystem::path partial_path(std::string_view org_id,
                                       std::string_view call_id,
                                       Format format) const;
    // The associated data that ties a sealed file to its call.
    static std::string binding(std::string_view org_id, std::string_view call_id, Format format);

    // A complete recording exists in this format.
    bool exists(std::string_view org_id, std::string_view call_id, Format format) const;
    // It is still being written (the call is live, or the writer has not finished it).
    bool in_progress(std::string_view org_id, std::string_view call_id) const;

    // The decrypted recording. A WAV's header is completed here: it was written before its size
    // was known and a sealed stream cannot be rewritten in place. kNotFound: none; kInternal:
    // the file is damaged (changed or truncated) or its master key is gone.
    Result<std::string> read(std::string_view org_id,
                             std::string_view call_id,
                             Format format) const;

    // Removes every file of the call's recording; returns how many there were.
    Result<int> remove(std::string_view org_id, std::string_view call_id) const;

    // Removes complete recordings last written before `cutoff`, and `.partial` files not written
    // to for an hour (left by a crash). Returns the number of files removed.
    Result<int> purge_before(std::chrono::system_clock::time_point cutoff,
                             std::chrono::system_clock::time_point now) const;

    // The organization's data key (`master_key_id` empty: under the primary master key).
    Result<store::SecretBox::DerivedKey> data_key(std::string_view org_id,
                                                  std::string_view master_key_id = {}) const;

private:
    std::filesystem::path directory(std::string_view org_id) const;

    std::filesystem::path root_;
    const store::SecretBox& secrets_;
};

}  // namespace tl::recording
