#include "recording/sealed_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "common/temp_dir.hpp"

namespace tl::recording {
namespace {

DataKey key_of(unsigned char fill) {
    DataKey key;
    key.fill(fill);
    return key;
}

KeyLookup lookup(const DataKey& key) {
    return [key](std::string_view id) -> Result<DataKey> {
        if (id != "abcd0123") return make_error(Errc::kInternal, "unknown master key");
        return key;
    };
}

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

// 200 KiB of a recognisable pattern: several chunks.
std::string plaintext() {
    std::string text;
    for (int i = 0; text.size() < 200 * 1024; ++i) text += "sample " + std::to_string(i) + ";";
    return text;
}

std::filesystem::path seal(const TempDir& dir, const std::string& text, bool finish = true) {
    const auto path = dir.path() / "file.sealed";
    auto writer = SealedFileWriter::create(path, "abcd0123", key_of(7), "org/call/wav");
    EXPECT_TRUE(writer) << writer.error().message;
    const std::size_t half = text.size() / 2;
    EXPECT_TRUE(writer->write(text.substr(0, half)));
    EXPECT_TRUE(writer->write(text.substr(half)));
    if (finish) {
        EXPECT_TRUE(writer->finish());
    }
    return path;
}

TEST(SealedFile, RoundTripsAndNeverHoldsThePlaintext) {
    TempDir dir;
    const auto text = plaintext();
    const auto path = seal(dir, text);
    const auto on_disk = slurp(path);
    EXPECT_EQ(on_disk.find("sample 1;"), std::string::npos);
    EXPECT_EQ(on_disk.rfind("TLSEAL1\nabcd0123", 0), 0u);
    auto opened = open_sealed_file(path, lookup(key_of(7)), "org/call/wav");
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, text);
}

TEST(SealedFile, AnEmptyStreamStillOpens) {
    TempDir dir;
    const auto path = dir.path() / "empty.sealed";
    auto writer = SealedFileWriter::create(path, "abcd0123", key_of(1), "b");
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->finish());
    auto opened = open_sealed_file(path, lookup(key_of(1)), "b");
    ASSERT_TRUE(opened);
    EXPECT_TRUE(opened->empty());
}

TEST(SealedFile, RefusesToOverwriteAFile) {
    TempDir dir;
    const auto path = seal(dir, "x");
    EXPECT_FALSE(SealedFileWriter::create(path, "abcd0123", key_of(7), "org/call/wav"));
}

TEST(SealedFile, TruncationIsDetected) {
    TempDir dir;
    const auto text = plaintext();
    const auto path = seal(dir, text);
    const auto whole = slurp(path);
    // Cut at a chunk boundary (the first chunk whole) and inside a chunk.
    const std::size_t first_chunk_end = 16 + 24 + 4 + SealedFileWriter::kChunkBytes + 17;
    for (const std::size_t size : {first_chunk_end, whole.size() - 1, std::size_t{40}}) {
        spit(path, whole.substr(0, size));
        auto opened = open_sealed_file(path, lookup(key_of(7)), "org/call/wav");
        ASSERT_FALSE(opened) << "cut at " << size;
        EXPECT_NE(opened.error().message.find("damaged"), std::string::npos);
    }
}

TEST(SealedFile, AnUnfinishedFileDoesNotOpen) {
    TempDir dir;
    const auto path = seal(dir, plaintext(), false);
    EXPECT_FALSE(open_sealed_file(path, lookup(key_of(7)), "org/call/wav"));
}

TEST(SealedFile, TamperingIsDetected) {
    TempDir dir;
    const auto path = seal(dir, plaintext());
    const auto whole = slurp(path);
    for (const std::size_t at :
         {std::size_t{20}, std::size_t{100}, whole.size() / 2, whole.size() - 3}) {
        auto changed = whole;
        changed[at] = static_cast<char>(changed[at] ^ 0x01);
        spit(path, changed);
        EXPECT_FALSE(open_sealed_file(path, lookup(key_of(7)), "org/call/wav")) << "byte " << at;
    }
    // Appended data after the final chunk.
    spit(path, whole + std::string(4, '\0'));
    EXPECT_FALSE(open_sealed_file(path, lookup(key_of(7)), "org/call/wav"));
}

TEST(SealedFile, AnotherKeyOrAnotherCallsNameDoesNotOpen) {
    TempDir dir;
    const auto path = seal(dir, "secret audio");
    EXPECT_FALSE(open_sealed_file(path, lookup(key_of(8)), "org/call/wav"));
    EXPECT_FALSE(open_sealed_file(path, lookup(key_of(7)), "org/other-call/wav"));
    EXPECT_TRUE(open_sealed_file(path, lookup(key_of(7)), "org/call/wav"));
}

TEST(SealedFile, AMissingFileIsNotFound) {
    TempDir dir;
    auto opened = open_sealed_file(dir.path() / "none", lookup(key_of(7)), "b");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace tl::recording
