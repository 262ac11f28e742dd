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

    // Parses a key in the accepted text formats (hex or base64 of 32 bytes).
    static Result<Key> parse_key(std::string_view text);

private:
    explicit SecretBox(std::vector<Key> keys) : keys_(std::move(keys)) {}
    std::vector<Key> keys_;
};

}  // namespace tl::store
