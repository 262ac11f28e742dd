#pragma once
// Sealing of secrets at rest (trunk passwords, destination passwords, webhook secrets, BYOK keys)
// with libsodium XChaCha20-Poly1305 (IETF AEAD) under a master key.
//
// Sealed form: "tlsb1:<key_id>:<base64(nonce || ciphertext+tag)>". The key id (first 8 hex
// characters of BLAKE2b(key)) travels in each ciphertext so old values stay readable after the
// master key rotates: the keyring holds one primary key (used to seal) and any retired keys.
//
// Thread-safety: immutable after construction; seal/unseal may run concurrently.

#include "common/error.hpp"

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl::store {

class SecretBox {
public:
    struct Key {
        std::string id;
        std::vector<unsigned char> bytes;  // 32 bytes
    };

    // Loads the keyring. The primary key is `env_key` when given (64 hex characters or base64 of
    // 32 bytes, e.g. from TRUNKLINE_MASTER_KEY), else `<data_dir>/master.key`, created with a fresh
    // random key and mode 0600 on first use. Retired keys are read from
    // `<data_dir>/retired-keys/*.key` (same formats), so rotation = move the old key file there.
    static Result<SecretBox> load(const std::filesystem::path& data_dir,
                                  const std::optional<std::string>& env_key);

    // A keyring from explicit keys (tests); the first is primary.
    static Result<SecretBox> from_keys(std::vector<Key> keys);

    std::string seal(std::string_view plaintext) const;
    Result<std::string> unseal(std::string_view sealed) const;

    const std::string& primary_key_id() const { return keys_.front().id; }

    // A 32-byte key for bulk data (call recordings), derived from a master key rather than stored:
    // BLAKE2b keyed with the master key over `context` (which names the purpose and the owner,
    // e.g. "recording-v1:" + org id), so each organization's data has its own key and nothing
    // new must be kept or backed up. `key_id` empty: the primary key (to seal); else the master
    // key that sealed the data (to open it after a rotation). kNotFound: no such master key.
    struct DerivedKey {
        std::string master_key_id;
        std::array<unsigned char, 32> bytes{};
    };
    Result<DerivedKey> derive_key(std::string_view context, std::string_view key_id = {}) const;

    // Parses a key in the accepted text formats (hex or base64 of 32 bytes).
    static Result<Key> parse_key(std::string_view text);

private:
    explicit SecretBox(std::vector<Key> keys) : keys_(std::move(keys)) {}
    std::vector<Key> keys_;
};

}  // namespace tl::store
