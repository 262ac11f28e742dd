#pragma once
// Files sealed at rest while they are written: libsodium's crypto_secretstream_xchacha20poly1305
// encrypts the plaintext in chunks as it streams, so no plaintext byte ever reaches the disk,
// not even temporarily. A reader detects any change, reordering or truncation: the stream's
// last chunk carries the FINAL tag and nothing may follow it.
//
// Layout (all integers big-endian):
//   "TLSEAL1\n"                 8 bytes, the format
//   master key id               8 ASCII bytes (which master key the data key derives from)
//   secretstream header         24 bytes
//   chunks                      u32 ciphertext length, then ciphertext (plaintext + 17 bytes)
// The first chunk authenticates the 16-byte prefix and a caller-chosen binding (for recordings
// "<org>/<call>/<format>") as associated data, so a file cannot be relabelled with another key
// id nor moved to another call's name and still open.
//
// Thread-safety: a SealedFileWriter is used by one thread at a time; open_sealed_file is
// reentrant.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace tl::recording {

using DataKey = std::array<unsigned char, 32>;

class SealedFileWriter {
public:
    // Plaintext buffered before a chunk is sealed and written (a few seconds of audio).
    static constexpr std::size_t kChunkBytes = 64 * 1024;

    // Creates `path` (mode 0600; it must not exist) and writes the header.
    static Result<SealedFileWriter> create(const std::filesystem::path& path,
                                           std::string_view master_key_id,
                                           const DataKey& key,
                                           std::string_view binding);
    SealedFileWriter(SealedFileWriter&& other) noexcept;
    SealedFileWriter& operator=(SealedFileWriter&& other) noexcept;
    SealedFileWriter(const SealedFileWriter&) = delete;
    SealedFileWriter& operator=(const SealedFileWriter&) = delete;
    // Closes the file without finishing it: what was written does not open (truncated).
    ~SealedFileWriter();

    Status write(std::string_view plaintext);
    // Seals what is buffered as the FINAL chunk, syncs and closes the file.
    Status finish();

    std::uint64_t plaintext_bytes() const { return plaintext_bytes_; }
    std::uint64_t file_bytes() const { return file_bytes_; }

private:
    SealedFileWriter() = default;
    Status seal_chunk(std::string_view plaintext, bool final);
    Status write_all(const unsigned char* data, std::size_t size);
    void close_fd();

    int fd_ = -1;
    std::filesystem::path path_;
    std::array<unsigned char, 52> state_{};  // crypto_secretstream_xchacha20poly1305_state
    std::string prefix_and_binding_;         // associated data of the first chunk
    bool first_chunk_ = true;
    std::string buffer_;
    std::string cipher_;
    std::uint64_t plaintext_bytes_ = 0;
    std::uint64_t file_bytes_ = 0;
};

// The key a file's header names: the data key derived from that master key.
using KeyLookup = std::function<Result<DataKey>(std::string_view master_key_id)>;

// The whole plaintext of a sealed file. kNotFound when the file does not exist; kInternal
// ("damaged") when it was changed, truncated or is not a sealed file, or its key is unknown.
Result<std::string> open_sealed_file(const std::filesystem::path& path,
                                     const KeyLookup& key_for,
                                     std::string_view binding);

}  // namespace tl::recording
