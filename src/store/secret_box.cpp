#include "store/secret_box.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace tl::store {
namespace {

constexpr std::string_view kSealPrefix = "tlsb1";
constexpr std::size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kKeyIdChars = 8;
constexpr std::string_view kKeyFormatHint =
    "expected 64 hex characters or base64 of 32 bytes (e.g. `openssl rand -hex 32`)";

static_assert(kKeyBytes == 32);

Status ensure_sodium() {
    // sodium_init is thread-safe and idempotent; a negative value means no usable RNG.
    if (sodium_init() < 0) return make_error(Errc::kInternal, "libsodium failed to initialise");
    return {};
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data, size);
    out.pop_back();
    return out;
}

std::string derive_key_id(const std::vector<unsigned char>& key) {
    std::array<unsigned char, crypto_generichash_BYTES> digest{};
    crypto_generichash(digest.data(), digest.size(), key.data(), key.size(), nullptr, 0);
    return to_hex(digest.data(), digest.size()).substr(0, kKeyIdChars);
}

std::string_view trim(std::string_view text) {
    const auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

// Decodes `text` as base64 in any of libsodium's variants; nullopt unless it is exactly `size`
// bytes. Key files written by hand use either alphabet, with or without padding.
std::optional<std::vector<unsigned char>> decode_base64(std::string_view text, std::size_t size) {
    constexpr std::array kVariants = {
        sodium_base64_VARIANT_ORIGINAL,
        sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE,
        sodium_base64_VARIANT_URLSAFE_NO_PADDING,
    };
    if (text.empty()) return std::nullopt;  // libsodium must not get a null output buffer
    for (int variant : kVariants) {
        std::vector<unsigned char> out(text.size());
        std::size_t out_len = 0;
        const char* end = nullptr;
        const int rc = sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr,
                                         &out_len, &end, variant);
        if (rc == 0 && end == text.data() + text.size() && out_len == size) {
            out.resize(out_len);
            return out;
        }
        sodium_memzero(out.data(), out.size());
    }
    return std::nullopt;
}

std::string encode_base64(const std::vector<unsigned char>& data) {
    const std::size_t len = sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL);
    std::string out(len, '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(len - 1);  // drop the terminating NUL libsodium writes
    return out;
}

// strerror() is not thread-safe; the generic category's message is.
std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Result<std::string> read_small_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error(Errc::kInternal,
                          "cannot read key file " + path.string() + ": " + errno_text(errno));
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

Result<SecretBox::Key> load_key_file(const std::filesystem::path& path) {
    auto text = read_small_file(path);
    if (!text) return text.error();
    auto key = SecretBox::parse_key(*text);
    sodium_memzero(text->data(), text->size());
    if (!key) {
        return make_error(Errc::kInvalidRequest,
                          "key file " + path.string() + " is invalid: " + key.error().message);
    }
    return key;
}

// Writes a fresh key to `path` without ever exposing a partial file: the key goes to a private
// temporary file first, which is then hard-linked into place. link() fails with EEXIST when another
// process won the race, and then that process's key is used.
Result<SecretBox::Key> create_key_file(const std::filesystem::path& path) {
    std::vector<unsigned char> bytes(kKeyBytes);
    randombytes_buf(bytes.data(), bytes.size());
    std::string text = to_hex(bytes.data(), bytes.size()) + "\n";
    sodium_memzero(bytes.data(), bytes.size());

    const std::filesystem::path tmp =
        path.string() + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
    const auto fail = [&](const std::string& what) -> Error {
        const int err = errno;
        sodium_memzero(text.data(), text.size());
        ::unlink(tmp.c_str());
        return make_error(Errc::kInternal, what + " " + path.string() + ": " + errno_text(err));
    };

    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot create master key file");
    // The umask may only narrow the mode; fchmod makes 0600 exact whatever it is.
    bool ok = ::fchmod(fd, 0600) == 0;
    std::size_t written = 0;
    while (ok && written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    if (::close(fd) != 0) ok = false;
    if (!ok) return fail("cannot write master key file");

    if (::link(tmp.c_str(), path.c_str()) != 0) {
        if (errno != EEXIST) return fail("cannot install master key file");
        ::unlink(tmp.c_str());
        sodium_memzero(text.data(), text.size());
        return load_key_file(path);
    }
    ::unlink(tmp.c_str());
    auto key = SecretBox::parse_key(text);
    sodium_memzero(text.data(), text.size());
    return key;
}

Result<std::vector<SecretBox::Key>> load_retired_keys(const std::filesystem::path& dir) {
    std::vector<SecretBox::Key> keys;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return keys;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".key") files.push_back(entry.path());
    }
    if (ec) {
        return make_error(Errc::kInternal,
                          "cannot list retired keys in " + dir.string() + ": " + ec.message());
    }
    std::sort(files.begin(), files.end());  // deterministic keyring order
    for (const auto& file : files) {
        auto key = load_key_file(file);
        if (!key) return key.error();
        keys.push_back(std::move(*key));
    }
    return keys;
}

}  // namespace

Result<SecretBox::Key> SecretBox::parse_key(std::string_view text) {
    if (auto ready = ensure_sodium(); !ready) return ready.error();
    text = trim(text);
    Key key;
    if (text.size() == kKeyBytes * 2) {
        key.bytes.resize(kKeyBytes);
        std::size_t len = 0;
        const char* end = nullptr;
        const int rc = sodium_hex2bin(key.bytes.data(), key.bytes.size(), text.data(), text.size(),
                                      nullptr, &len, &end);
        if (rc != 0 || len != kKeyBytes || end != text.data() + text.size()) key.bytes.clear();
    }
    if (key.bytes.empty()) {
        auto decoded = decode_base64(text, kKeyBytes);
        if (!decoded) {
            // Never echo the text: it is (a mistyped) key.
            return make_error(Errc::kInvalidRequest,
                              "master key has the wrong format: " + std::string(kKeyFormatHint));
        }
        key.bytes = std::move(*decoded);
    }
    key.id = derive_key_id(key.bytes);
    return key;
}

Result<SecretBox> SecretBox::from_keys(std::vector<Key> keys) {
    if (auto ready = ensure_sodium(); !ready) return ready.error();
    if (keys.empty()) return make_error(Errc::kInvalidRequest, "a keyring needs at least one key");
    std::vector<Key> ring;
    for (auto& key : keys) {
        if (key.bytes.size() != kKeyBytes) {
            return make_error(Errc::kInvalidRequest, "a master key must be exactly 32 bytes");
        }
        const std::string derived = derive_key_id(key.bytes);
        if (!key.id.empty() && key.id != derived) {
            return make_error(Errc::kInvalidRequest,
                              "key id " + key.id + " does not match its key bytes");
        }
        key.id = derived;
        // The same key listed twice (primary also left in retired-keys/) is harmless; keep one.
        const bool seen =
            std::any_of(ring.begin(), ring.end(), [&](const Key& k) { return k.id == key.id; });
        if (!seen) ring.push_back(std::move(key));
    }
    return SecretBox(std::move(ring));
}

Result<SecretBox> SecretBox::load(const std::filesystem::path& data_dir,
                                  const std::optional<std::string>& env_key) {
    if (auto ready = ensure_sodium(); !ready) return ready.error();
    std::vector<Key> keys;
    if (env_key) {
        auto key = parse_key(*env_key);
        if (!key) {
            return make_error(Errc::kInvalidRequest,
                              "the master key from the environment (TRUNKLINE_MASTER_KEY) is "
                              "invalid: " +
                                  std::string(kKeyFormatHint));
        }
        keys.push_back(std::move(*key));
    } else {
        std::error_code ec;
        std::filesystem::create_directories(data_dir, ec);
        if (ec) {
            return make_error(Errc::kInternal, "cannot create data directory " + data_dir.string() +
                                                   ": " + ec.message());
        }
        const auto key_file = data_dir / "master.key";
        auto key = std::filesystem::exists(key_file, ec) ? load_key_file(key_file)
                                                         : create_key_file(key_file);
        if (!key) return key.error();
        keys.push_back(std::move(*key));
    }
    auto retired = load_retired_keys(data_dir / "retired-keys");
    if (!retired) return retired.error();
    for (auto& key : *retired) keys.push_back(std::move(key));
    return from_keys(std::move(keys));
}

std::string SecretBox::seal(std::string_view plaintext) const {
    const Key& key = keys_.front();
    const std::string header = std::string(kSealPrefix) + ":" + key.id;
    std::vector<unsigned char> out(kNonceBytes + plaintext.size() + kTagBytes);
    randombytes_buf(out.data(), kNonceBytes);
    unsigned long long cipher_len = 0;
    // The header is associated data, so a ciphertext cannot be relabelled with another key id.
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out.data() + kNonceBytes, &cipher_len,
        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
        reinterpret_cast<const unsigned char*>(header.data()), header.size(), nullptr, out.data(),
        key.bytes.data());
    out.resize(kNonceBytes + cipher_len);
    return header + ":" + encode_base64(out);
}

Result<std::string> SecretBox::unseal(std::string_view sealed) const {
    const auto malformed = [] { return make_error(Errc::kInternal, "sealed secret is malformed"); };
    const std::size_t first = sealed.find(':');
    const std::size_t second =
        first == std::string_view::npos ? first : sealed.find(':', first + 1);
    if (second == std::string_view::npos || sealed.substr(0, first) != kSealPrefix ||
        second + 1 == sealed.size()) {
        return malformed();
    }
    const std::string_view header = sealed.substr(0, second);
    const std::string_view key_id = sealed.substr(first + 1, second - first - 1);
    const std::string_view body = sealed.substr(second + 1);

    const auto key =
        std::find_if(keys_.begin(), keys_.end(), [&](const Key& k) { return k.id == key_id; });
    if (key == keys_.end()) {
        return make_error(Errc::kInternal, "secret was sealed with unknown master key " +
                                               std::string(key_id) +
                                               "; add that key to retired-keys/");
    }

    // Decode without a fixed size: any length is fine as long as it holds nonce and tag.
    std::vector<unsigned char> raw(body.size());
    std::size_t raw_len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(raw.data(), raw.size(), body.data(), body.size(), nullptr, &raw_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != body.data() + body.size() || raw_len < kNonceBytes + kTagBytes) {
        return malformed();
    }

    std::string plain(raw_len - kNonceBytes - kTagBytes, '\0');
    unsigned long long plain_len = 0;
    const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
        raw.data() + kNonceBytes, raw_len - kNonceBytes,
        reinterpret_cast<const unsigned char*>(header.data()), header.size(), raw.data(),
        key->bytes.data());
    if (rc != 0) {
        return make_error(Errc::kInternal,
                          "sealed secret failed authentication (tampered, or the wrong key)");
    }
    plain.resize(plain_len);
    return plain;
}

Result<SecretBox::DerivedKey> SecretBox::derive_key(std::string_view context,
                                                   std::string_view key_id) const {
    const auto key = key_id.empty() ? keys_.begin()
                                    : std::find_if(keys_.begin(), keys_.end(),
                                                   [&](const Key& k) { return k.id == key_id; });
    if (key == keys_.end()) {
        return make_error(Errc::kNotFound, "data sealed with unknown master key " +
                                               std::string(key_id) + "; add that key to "
                                                                     "retired-keys/");
    }
    DerivedKey derived;
    derived.master_key_id = key->id;
    crypto_generichash(derived.bytes.data(), derived.bytes.size(),
                       reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                       key->bytes.data(), key->bytes.size());
    return derived;
}

}  // namespace tl::store
