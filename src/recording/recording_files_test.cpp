#include "recording/recording_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/temp_dir.hpp"
#include "recording/recording_purger.hpp"

namespace tl::recording {
namespace {

using namespace std::chrono_literals;

store::SecretBox test_secrets() {
    auto key = store::SecretBox::parse_key(std::string(64, 'b'));
    return std::move(*store::SecretBox::from_keys({*key}));
}

void touch(const std::filesystem::path& path) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << "sealed";
}

TEST(RecordingFiles, LaysFilesOutByOrganizationAndCall) {
    const auto secrets = test_secrets();
    RecordingFiles files("/data/recordings", secrets);
    EXPECT_EQ(files.path("org-a", "c1", Format::kWav), "/data/recordings/org-a/c1.wav.sealed");
    EXPECT_EQ(files.partial_path("org-a", "c1", Format::kOgg),
              "/data/recordings/org-a/c1.ogg.sealed.partial");
    // An id that is not a plain name cannot leave the directory.
    EXPECT_EQ(files.path("../x", "c1", Format::kWav).parent_path(), "/data/recordings/x2e2e2f78");
}

TEST(RecordingFiles, RemoveTakesEveryFormatAndPartialFile) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    touch(files.path("o", "c", Format::kWav));
    touch(files.path("o", "c", Format::kOgg));
    touch(files.path("o", "other", Format::kWav));
    EXPECT_TRUE(files.exists("o", "c", Format::kWav));
    EXPECT_EQ(*files.remove("o", "c"), 2);
    EXPECT_FALSE(files.exists("o", "c", Format::kWav));
    EXPECT_TRUE(files.exists("o", "other", Format::kWav));
    EXPECT_EQ(*files.remove("o", "c"), 0);
}

TEST(RecordingPurger, PurgesAtStartWhatIsOlderThanTheRetention) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    touch(files.path("o", "c", Format::kWav));
    touch(files.path("o", "c", Format::kOgg));
    touch(files.partial_path("o", "live", Format::kWav));
    const auto now = std::chrono::system_clock::now();
    const auto purge_at = [&](std::chrono::system_clock::time_point when) {
        RecordingPurger purger(files, 7, [when] { return when; });
        while (purger.runs() < 1) std::this_thread::sleep_for(1ms);
    };
    // Half an hour on: a recording being written is left alone.
    purge_at(now + 30min);
    EXPECT_TRUE(files.in_progress("o", "live"));
    // Six days on, a seven-day retention keeps the recording; a partial file nobody wrote to
    // for that long was left by a crash and goes.
    purge_at(now + 24h * 6);
    EXPECT_TRUE(files.exists("o", "c", Format::kWav));
    EXPECT_FALSE(files.in_progress("o", "live"));
    // Eight days on: the recording is gone.
    purge_at(now + 24h * 8);
    EXPECT_FALSE(files.exists("o", "c", Format::kWav));
    EXPECT_FALSE(files.exists("o", "c", Format::kOgg));
}

TEST(RecordingPurger, PurgesAgainEachInterval) {
    TempDir dir;
    const auto secrets = test_secrets();
    RecordingFiles files(dir.path(), secrets);
    std::atomic<int> days{0};
    const auto start = std::chrono::system_clock::now();
    RecordingPurger purger(
        files, 1, [&] { return start + 24h * days.load(); }, 5ms);
    while (purger.runs() < 1) std::this_thread::sleep_for(1ms);
    touch(files.path("o", "c", Format::kWav));
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(files.exists("o", "c", Format::kWav));
    days = 2;  // the clock moves on: the next hourly run takes it
    for (int i = 0; i < 1000 && files.exists("o", "c", Format::kWav); ++i) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_FALSE(files.exists("o", "c", Format::kWav));
}

}  // namespace
}  // namespace tl::recording
