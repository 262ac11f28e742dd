#include "media/wav.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "media/test_tone.hpp"

namespace tl::media {
namespace {

class WavTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("tl-wav-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
};

std::vector<std::uint8_t> header(std::uint16_t format,
                                 std::uint16_t channels,
                                 std::uint32_t rate,
                                 std::uint16_t bits,
                                 std::uint32_t data_bytes) {
    std::vector<std::uint8_t> b;
    auto put = [&](std::uint32_t v, int n) {
        for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    auto tag = [&](std::string_view t) {
        for (char c : t) b.push_back(static_cast<std::uint8_t>(c));
    };
    tag("RIFF");
    put(36 + data_bytes, 4);
    tag("WAVE");
    tag("fmt ");
    put(16, 4);
    put(format, 2);
    put(channels, 2);
    put(rate, 4);
    put(rate * channels * bits / 8, 4);
    put(channels * bits / 8, 2);
    put(bits, 2);
    tag("data");
    put(data_bytes, 4);
    return b;
}

TEST_F(WavTest, RoundTrip) {
    const auto tone = test::make_tone(440.0, 16000, 16001, 20000.0);  // odd length on purpose
    const auto path = dir_ / "tone.wav";
    ASSERT_TRUE(write_wav(path, 16000, tone));
    EXPECT_EQ(std::filesystem::file_size(path), 44u + 2u * tone.size());
    auto audio = read_wav(path);
    ASSERT_TRUE(audio) << audio.error().message;
    EXPECT_EQ(audio->sample_rate, 16000);
    EXPECT_EQ(audio->samples, tone);
}

TEST_F(WavTest, EmptyAudioRoundTrips) {
    const auto path = dir_ / "empty.wav";
    ASSERT_TRUE(write_wav(path, 8000, {}));
    auto audio = read_wav(path);
    ASSERT_TRUE(audio);
    EXPECT_TRUE(audio->samples.empty());
}

TEST(Wav, RejectsNonPcm16WithAClearError) {
    const struct {
        std::uint16_t format;
        std::uint16_t bits;
    } cases[] = {{3, 32}, {1, 8}, {1, 24}, {6, 8}, {7, 8}};
    for (const auto& c : cases) {
        auto bytes = header(c.format, 1, 8000, c.bits, 8);
        bytes.resize(bytes.size() + 8, 0);
        auto audio = parse_wav(bytes);
        ASSERT_FALSE(audio);
        EXPECT_EQ(audio.error().code, Errc::kInvalidRequest);
        EXPECT_NE(audio.error().message.find("only 16-bit PCM"), std::string::npos)
            << audio.error().message;
    }
}

TEST(Wav, MixesStereoDownAndSkipsUnknownChunks) {
    auto bytes = header(1, 2, 8000, 16, 8);
    // Insert a LIST chunk (odd size, padded) between fmt and data.
    const std::vector<std::uint8_t> list = {'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
    bytes.insert(bytes.end() - 8, list.begin(), list.end());
    const std::int16_t frames[] = {1000, 3000, -2000, -4000};
    for (auto s : frames) {
        bytes.push_back(static_cast<std::uint8_t>(s & 0xFF));
        bytes.push_back(static_cast<std::uint8_t>((s >> 8) & 0xFF));
    }
    auto audio = parse_wav(bytes);
    ASSERT_TRUE(audio) << audio.error().message;
    EXPECT_EQ(audio->samples, (std::vector<std::int16_t>{2000, -3000}));
}

TEST(Wav, TruncatedAndGarbageInputAreErrors) {
    EXPECT_FALSE(parse_wav({}));
    const std::vector<std::uint8_t> garbage(100, 0x41);
    EXPECT_FALSE(parse_wav(garbage));
    auto bytes = header(1, 1, 8000, 16, 0);
    bytes.resize(30);  // cut inside the fmt chunk
    EXPECT_FALSE(parse_wav(bytes));
    auto no_data = header(1, 1, 8000, 16, 0);
    no_data.resize(36);
    EXPECT_FALSE(parse_wav(no_data));
}

TEST(Wav, DataSizeLargerThanTheFileIsClamped) {
    auto bytes = header(1, 1, 8000, 16, 0xFFFFFFFF);
    bytes.insert(bytes.end(), {1, 0, 2, 0});
    auto audio = parse_wav(bytes);
    ASSERT_TRUE(audio);
    EXPECT_EQ(audio->samples, (std::vector<std::int16_t>{1, 2}));
}

TEST_F(WavTest, MissingFileIsNotFound) {
    auto audio = read_wav(dir_ / "nope.wav");
    ASSERT_FALSE(audio);
    EXPECT_EQ(audio.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace tl::media
