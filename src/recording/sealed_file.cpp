#include "recording/sealed_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace tl::recording {
namespace {

constexpr std::string_view kMagic = "TLSEAL1\n";
constexpr std::size_t kKeyIdBytes = 8;
constexpr std::size_t kPrefixBytes = 16;  // magic + key id
constexpr std::size_t kHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;
using State = crypto_secretstream_xchacha20poly1305_state;

static_assert(sizeof(State) == 52 && alignof(State) == 1, "the writer's state buffer");
static_assert(kMagic.size() == 8);

State& as_state(std::array<unsigned char, 52>& bytes) {
    return *reinterpret_cast<State*>(bytes.data());
}

Error io_error(const std::filesystem::path& path, std::string_view what) {
    return make_error(Errc::kInternal,
                      std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

Error damaged(std::string_view why) {
    return make_error(Errc::kInternal, "the sealed file is damaged: " + std::string(why));
}

std::uint32_t be32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

}  // namespace

Result<SealedFileWriter> SealedFileWriter::create(const std::filesystem::path& path,
                                                  std::string_view master_key_id,
                                                  const DataKey& key,
                                                  std::string_view binding) {
    if (sodium_init() < 0) return make_error(Errc::kInternal, "libsodium failed to initialise");
    if (master_key_id.size() != kKeyIdBytes) {
        return make_error(Errc::kInternal, "a master key id has 8 characters");
    }
    SealedFileWriter writer;
    writer.path_ = path;
    writer.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (writer.fd_ < 0) return io_error(path, "cannot create");
    std::array<unsigned char, kHeaderBytes> header{};
    crypto_secretstream_xchacha20poly1305_init_push(&as_state(writer.state_), header.data(),
                                                    key.data());
    writer.prefix_and_binding_ = std::string(kMagic);
    writer.prefix_and_binding_ += master_key_id;
    if (auto st = writer.write_all(
            reinterpret_cast<const unsigned char*>(writer.prefix_and_binding_.data()),
            kPrefixBytes);
        !st) {
        return st.error();
    }
    if (auto st = writer.write_all(header.data(), header.size()); !st) return st.error();
    writer.prefix_and_binding_ += binding;
    writer.buffer_.reserve(kChunkBytes);
    return writer;
}

SealedFileWriter::SealedFileWriter(SealedFileWriter&& other) noexcept { *this = std::move(other); }

SealedFileWriter& SealedFileWriter::operator=(SealedFileWriter&& other) noexcept {
    if (this == &other) return *this;
    close_fd();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    state_ = other.state_;
    sodium_memzero(other.state_.data(), other.state_.size());
    prefix_and_binding_ = std::move(other.prefix_and_binding_);
    first_chunk_ = other.first_chunk_;
    buffer_ = std::move(other.buffer_);
    cipher_ = std::move(other.cipher_);
    plaintext_bytes_ = other.plaintext_bytes_;
    file_bytes_ = other.file_bytes_;
    return *this;
}

SealedFileWriter::~SealedFileWriter() {
    close_fd();
    sodium_memzero(state_.data(), state_.size());
    if (!buffer_.empty()) sodium_memzero(buffer_.data(), buffer_.size());
}

void SealedFileWriter::close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Status SealedFileWriter::write(std::string_view plaintext) {
    if (fd_ < 0) return make_error(Errc::kInternal, "the sealed file is closed");
    plaintext_bytes_ += plaintext.size();
    while (!plaintext.empty()) {
        const std::size_t n = std::min(plaintext.size(), kChunkBytes - buffer_.size());
        buffer_.append(plaintext.substr(0, n));
        plaintext.remove_prefix(n);
        if (buffer_.size() == kChunkBytes) {
            if (auto st = seal_chunk(buffer_, false); !st) return st;
            sodium_memzero(buffer_.data(), buffer_.size());
            buffer_.clear();
        }
    }
    return {};
}

Status SealedFileWriter::finish() {
    if (fd_ < 0) return make_error(Errc::kInternal, "the sealed file is closed");
    if (auto st = seal_chunk(buffer_, true); !st) return st;
    sodium_memzero(buffer_.data(), buffer_.size());
    buffer_.clear();
    if (::fdatasync(fd_) != 0) return io_error(path_, "cannot sync");
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return io_error(path_, "cannot close");
    return {};
}

Status SealedFileWriter::seal_chunk(std::string_view plaintext, bool final) {
    cipher_.resize(4 + plaintext.size() + kOverhead);
    auto* out = reinterpret_cast<unsigned char*>(cipher_.data());
    const std::string_view ad = first_chunk_ ? std::string_view(prefix_and_binding_) : "";
    unsigned long long cipher_len = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &as_state(state_), out + 4, &cipher_len,
        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
        reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    first_chunk_ = false;
    const auto len = static_cast<std::uint32_t>(cipher_len);
    out[0] = static_cast<unsigned char>(len >> 24);
    out[1] = static_cast<unsigned char>(len >> 16);
    out[2] = static_cast<unsigned char>(len >> 8);
    out[3] = static_cast<unsigned char>(len);
    return write_all(out, 4 + cipher_len);
}

Status SealedFileWriter::write_all(const unsigned char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd_, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return io_error(path_, "cannot write");
        data += n;
        size -= static_cast<std::size_t>(n);
        file_bytes_ += static_cast<std::uint64_t>(n);
    }
    return {};
}

Result<std::string> open_sealed_file(const std::filesystem::path& path,
                                     const KeyLookup& key_for,
                                     std::string_view binding) {
    if (sodium_init() < 0) return make_error(Errc::kInternal, "libsodium failed to initialise");
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return make_error(errno == ENOENT ? Errc::kNotFound : Errc::kInternal,
                          "cannot open " + path.string());
    }
    const std::string sealed((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
    const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
    if (sealed.size() < kPrefixBytes + kHeaderBytes ||
        std::string_view(sealed).substr(0, kMagic.size()) != kMagic) {
        return damaged("not a sealed file");
    }
    const std::string_view key_id = std::string_view(sealed).substr(kMagic.size(), kKeyIdBytes);
    auto key = key_for(key_id);
    if (!key) return key.error();
    State state;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&state, bytes + kPrefixBytes,
                                                        key->data()) != 0) {
        return damaged("bad stream header");
    }
    sodium_memzero(key->data(), key->size());
    std::string ad = sealed.substr(0, kPrefixBytes);
    ad += binding;
    std::string plain;
    std::size_t pos = kPrefixBytes + kHeaderBytes;
    bool first = true;
    bool final = false;
    while (pos < sealed.size()) {
        if (final) return damaged("data after the end of the stream");
        if (sealed.size() - pos < 4) return damaged("truncated chunk length");
        const std::size_t len = be32(bytes + pos);
        pos += 4;
        if (len < kOverhead || len > SealedFileWriter::kChunkBytes + kOverhead ||
            len > sealed.size() - pos) {
            return damaged("truncated or oversized chunk");
        }
        const std::size_t offset = plain.size();
        plain.resize(offset + len - kOverhead);
        unsigned long long plain_len = 0;
        unsigned char tag = 0;
        const std::string_view chunk_ad = first ? std::string_view(ad) : "";
        if (crypto_secretstream_xchacha20poly1305_pull(
                &state, reinterpret_cast<unsigned char*>(plain.data()) + offset, &plain_len, &tag,
                bytes + pos, len, reinterpret_cast<const unsigned char*>(chunk_ad.data()),
                chunk_ad.size()) != 0) {
            sodium_memzero(plain.data(), plain.size());
            return damaged("a chunk failed authentication (changed, or another call's file)");
        }
        plain.resize(offset + plain_len);
        pos += len;
        first = false;
        final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    }
    if (!final) {
        sodium_memzero(plain.data(), plain.size());
        return damaged("truncated: the stream has no end");
    }
    return plain;
}

}  // namespace tl::recording
