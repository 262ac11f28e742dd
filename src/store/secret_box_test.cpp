#include "common/temp_dir.hpp"
#include "store/secret_box.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace tl::store {
namespace {

namespace fs = std::filesystem;

// Every TempDir of this file is named tl_secret_box_*.
class TempDir : public tl::TempDir {
public:
    TempDir() : tl::TempDir("tl_secret_box") {}
};

std::vector<unsigned char> random_bytes(std::size_t n) {
    EXPECT_GE(sodium_init(), 0);
    std::vector<unsigned char> bytes(n);
    randombytes_buf(bytes.data(), bytes.size());
    return bytes;
}

std::string hex(const std::vector<unsigned char>& bytes) {
    std::string out(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
    out.pop_back();
    return out;
}

std::string base64(const std::vector<unsigned char>& bytes, int variant) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
    out.pop_back();
    return out;
}

SecretBox box_with_random_key() {
    return SecretBox::from_keys({SecretBox::Key{"", random_bytes(32)}}).value();
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

// Replaces the base64 body of a sealed value after `mutate` changed its raw bytes.
std::string mutate_body(const std::string& sealed,
                        const std::function<void(std::vector<unsigned char>&)>& mutate) {
    const auto colon = sealed.rfind(':');
    const std::string body = sealed.substr(colon + 1);
    std::vector<unsigned char> raw(body.size());
    std::size_t len = 0;
    EXPECT_EQ(sodium_base642bin(raw.data(), raw.size(), body.data(), body.size(), nullptr, &len,
                                nullptr, sodium_base64_VARIANT_ORIGINAL),
              0);
    raw.resize(len);
    mutate(raw);
    return sealed.substr(0, colon + 1) + base64(raw, sodium_base64_VARIANT_ORIGINAL);
}

TEST(SecretBoxTest, RoundTripsPlaintexts) {
    const SecretBox box = box_with_random_key();
    const std::vector<std::string> plaintexts = {
        "", "hunter2", std::string("with\0nul", 8), "ünïcødé ☎", std::string(10000, 'x'),
    };
    for (const auto& plain : plaintexts) {
        SCOPED_TRACE(plain.substr(0, 20));
        const std::string sealed = box.seal(plain);
        EXPECT_EQ(sealed.rfind("tlsb1:" + box.primary_key_id() + ":", 0), 0u) << sealed;
        if (!plain.empty()) {
            EXPECT_EQ(sealed.find(plain), std::string::npos);
        }
        auto opened = box.unseal(sealed);
        ASSERT_TRUE(opened) << opened.error().message;
        EXPECT_EQ(*opened, plain);
    }
}

TEST(SecretBoxTest, SealingTwiceUsesFreshNonces) {
    const SecretBox box = box_with_random_key();
    EXPECT_NE(box.seal("same"), box.seal("same"));
}

TEST(SecretBoxTest, KeyIdIsEightHexCharacters) {
    const SecretBox box = box_with_random_key();
    ASSERT_EQ(box.primary_key_id().size(), 8u);
    EXPECT_EQ(box.primary_key_id().find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SecretBoxTest, DetectsTampering) {
    const SecretBox box = box_with_random_key();
    const std::string sealed = box.seal("the password");
    const std::size_t raw_size = 24 + 12 + 16;  // nonce + plaintext + tag
    for (std::size_t i = 0; i < raw_size; ++i) {
        SCOPED_TRACE(i);
        const std::string tampered =
            mutate_body(sealed, [i](std::vector<unsigned char>& raw) { raw[i] ^= 0x01; });
        auto opened = box.unseal(tampered);
        ASSERT_FALSE(opened);
        EXPECT_EQ(opened.error().code, Errc::kInternal);
        EXPECT_EQ(opened.error().message.find("the password"), std::string::npos);
    }
    const std::vector<std::string> malformed = {
        "",
        "garbage",
        "tlsb1:" + box.primary_key_id(),
        "tlsb2" + sealed.substr(5),
        sealed + "!",
        sealed.substr(0, sealed.size() - 8),
        mutate_body(sealed, [](std::vector<unsigned char>& raw) { raw.resize(20); }),
    };
    for (const auto& bad : malformed) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(box.unseal(bad));
    }
}

TEST(SecretBoxTest, RelabelledKeyIdIsRejected) {
    // Two keys in one ring: moving a ciphertext under the other key's id must fail, which the
    // header being associated data guarantees even before the key differs.
    auto key1 = SecretBox::parse_key(hex(random_bytes(32))).value();
    auto key2 = SecretBox::parse_key(hex(random_bytes(32))).value();
    const SecretBox box = SecretBox::from_keys({key1, key2}).value();
    const std::string sealed = box.seal("secret");
    std::string relabelled = sealed;
    relabelled.replace(6, 8, key2.id);
    EXPECT_FALSE(box.unseal(relabelled));
}

TEST(SecretBoxTest, WrongKeyFails) {
    const SecretBox box1 = box_with_random_key();
    const SecretBox box2 = box_with_random_key();
    auto opened = box2.unseal(box1.seal("secret"));
    ASSERT_FALSE(opened);
    EXPECT_NE(opened.error().message.find(box1.primary_key_id()), std::string::npos)
        << "the error names the missing key id so the operator knows which key to restore";
}

TEST(SecretBoxTest, FromKeysValidates) {
    EXPECT_FALSE(SecretBox::from_keys({}));
    EXPECT_FALSE(SecretBox::from_keys({SecretBox::Key{"", random_bytes(31)}}));
    EXPECT_FALSE(SecretBox::from_keys({SecretBox::Key{"deadbeef", random_bytes(32)}}));
}

TEST(SecretBoxTest, CreatesMasterKeyWithMode0600AndReusesIt) {
    TempDir dir;
    const fs::path data_dir = dir.path() / "var";
    const mode_t old_umask = ::umask(0);  // the file must be 0600 even with a permissive umask
    auto first = SecretBox::load(data_dir, std::nullopt);
    ::umask(old_umask);
    ASSERT_TRUE(first) << first.error().message;

    struct stat st {};
    ASSERT_EQ(::stat((data_dir / "master.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);

    auto second = SecretBox::load(data_dir, std::nullopt);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(first->primary_key_id(), second->primary_key_id());
    auto opened = second->unseal(first->seal("persisted"));
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, "persisted");

    // No temporary files are left behind.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(data_dir)) ++entries;
    EXPECT_EQ(entries, 1);
}

TEST(SecretBoxTest, RotationKeepsOldSecretsReadable) {
    TempDir dir;
    auto old_box = SecretBox::load(dir.path(), std::nullopt).value();
    const std::string old_sealed = old_box.seal("old secret");

    // Rotate: the old key file moves to retired-keys/, a new key becomes master.key.
    fs::create_directories(dir.path() / "retired-keys");
    fs::rename(dir.path() / "master.key", dir.path() / "retired-keys" / "2025-01.key");
    const std::vector<unsigned char> new_key = random_bytes(32);
    write_file(dir.path() / "master.key", hex(new_key) + "\n");

    auto rotated = SecretBox::load(dir.path(), std::nullopt);
    ASSERT_TRUE(rotated) << rotated.error().message;
    EXPECT_NE(rotated->primary_key_id(), old_box.primary_key_id());
    EXPECT_EQ(rotated->primary_key_id(), SecretBox::parse_key(hex(new_key)).value().id);

    auto opened = rotated->unseal(old_sealed);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, "old secret");

    const std::string new_sealed = rotated->seal("new secret");
    EXPECT_EQ(new_sealed.rfind("tlsb1:" + rotated->primary_key_id() + ":", 0), 0u);
    EXPECT_FALSE(old_box.unseal(new_sealed));

    // The same rotation with the new key from the environment instead of master.key.
    fs::remove(dir.path() / "master.key");
    auto from_env = SecretBox::load(dir.path(), base64(new_key, sodium_base64_VARIANT_ORIGINAL));
    ASSERT_TRUE(from_env) << from_env.error().message;
    EXPECT_EQ(from_env->primary_key_id(), rotated->primary_key_id());
    EXPECT_EQ(from_env->unseal(old_sealed).value(), "old secret");
    EXPECT_FALSE(fs::exists(dir.path() / "master.key"));
}

TEST(SecretBoxTest, EnvKeyAcceptsHexAndBase64) {
    TempDir dir;
    const std::vector<unsigned char> bytes = random_bytes(32);
    const std::string expected_id = SecretBox::parse_key(hex(bytes)).value().id;
    std::string upper_hex = hex(bytes);
    for (auto& c : upper_hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::vector<std::string> encodings = {
        hex(bytes),
        upper_hex,
        "  " + hex(bytes) + "\n",
        base64(bytes, sodium_base64_VARIANT_ORIGINAL),
        base64(bytes, sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
        base64(bytes, sodium_base64_VARIANT_URLSAFE),
    };
    for (const auto& text : encodings) {
        SCOPED_TRACE(text);
        auto box = SecretBox::load(dir.path(), text);
        ASSERT_TRUE(box) << box.error().message;
        EXPECT_EQ(box->primary_key_id(), expected_id);
    }
    EXPECT_FALSE(fs::exists(dir.path() / "master.key")) << "an env key never writes a key file";
}

TEST(SecretBoxTest, BadEnvKeyGivesClearErrorWithoutEchoingIt) {
    TempDir dir;
    const std::vector<std::string> bad_keys = {
        "",
        "not-a-key-at-all",
        hex(random_bytes(32)).substr(1),                           // 63 hex characters
        hex(random_bytes(33)),                                     // 66 hex characters
        std::string(64, 'g'),                                      // 64 non-hex characters
        base64(random_bytes(31), sodium_base64_VARIANT_ORIGINAL),  // too short
        base64(random_bytes(48), sodium_base64_VARIANT_ORIGINAL),  // too long
    };
    for (const auto& bad : bad_keys) {
        SCOPED_TRACE(bad);
        auto box = SecretBox::load(dir.path(), bad);
        ASSERT_FALSE(box);
        EXPECT_EQ(box.error().code, Errc::kInvalidRequest);
        EXPECT_NE(box.error().message.find("TRUNKLINE_MASTER_KEY"), std::string::npos);
        EXPECT_NE(box.error().message.find("64 hex"), std::string::npos);
        if (bad.size() > 4) {
            EXPECT_EQ(box.error().message.find(bad), std::string::npos);
        }
    }
}

TEST(SecretBoxTest, BadKeyFileNamesTheFile) {
    TempDir dir;
    write_file(dir.path() / "master.key", "oops\n");
    auto box = SecretBox::load(dir.path(), std::nullopt);
    ASSERT_FALSE(box);
    EXPECT_NE(box.error().message.find("master.key"), std::string::npos);

    write_file(dir.path() / "master.key", hex(random_bytes(32)));
    fs::create_directories(dir.path() / "retired-keys");
    write_file(dir.path() / "retired-keys" / "broken.key", "nope");
    box = SecretBox::load(dir.path(), std::nullopt);
    ASSERT_FALSE(box);
    EXPECT_NE(box.error().message.find("broken.key"), std::string::npos);
}

TEST(SecretBox, DerivedKeysDifferByContextAndFollowTheMasterKey) {
    auto old_key = SecretBox::parse_key(std::string(64, '1'));
    auto new_key = SecretBox::parse_key(std::string(64, '2'));
    ASSERT_TRUE(old_key && new_key);
    auto rotated = SecretBox::from_keys({*new_key, *old_key});
    auto before = SecretBox::from_keys({*old_key});
    ASSERT_TRUE(rotated && before);
    const auto a = rotated->derive_key("recording:org-a");
    const auto b = rotated->derive_key("recording:org-b");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->master_key_id, new_key->id);
    EXPECT_NE(a->bytes, b->bytes);
    EXPECT_EQ(a->bytes, rotated->derive_key("recording:org-a")->bytes);  // deterministic
    // A key derived before the rotation is derived again from the retired master key.
    const auto old_a = before->derive_key("recording:org-a");
    ASSERT_TRUE(old_a);
    EXPECT_NE(old_a->bytes, a->bytes);
    EXPECT_EQ(rotated->derive_key("recording:org-a", old_key->id)->bytes, old_a->bytes);
    EXPECT_EQ(rotated->derive_key("recording:org-a", "ffffffff").error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace tl::store
