#include "voice/providers/multipart.hpp"

#include <gtest/gtest.h>

namespace tl::voice {
namespace {

TEST(MultipartForm, ExactBodyWithGivenBoundary) {
    MultipartForm form("XyZ");
    form.add_file("file", "audio.wav", "audio/wav", std::string("RIFF\0\r\n", 7));
    form.add_field("model", "whisper-1");
    EXPECT_EQ(form.finish(), std::string("--XyZ\r\n"
                                         "Content-Disposition: form-data; name=\"file\"; "
                                         "filename=\"audio.wav\"\r\n"
                                         "Content-Type: audio/wav\r\n"
                                         "\r\n"
                                         "RIFF\0\r\n\r\n"
                                         "--XyZ\r\n"
                                         "Content-Disposition: form-data; name=\"model\"\r\n"
                                         "\r\n"
                                         "whisper-1\r\n"
                                         "--XyZ--\r\n",
                                         185));
    EXPECT_EQ(form.content_type(), "multipart/form-data; boundary=XyZ");
}

TEST(MultipartForm, QuotesAndNewlinesInNamesAreEscaped) {
    MultipartForm form("b");
    form.add_file("f\"x", "a\r\nb.wav", "audio/wav", "z");
    const auto body = form.finish();
    EXPECT_NE(body.find("name=\"f%22x\"; filename=\"a%0D%0Ab.wav\""), std::string::npos) << body;
}

TEST(MultipartForm, BoundaryFoundInContentIsReplaced) {
    MultipartForm form("abc");
    form.add_field("text", "xx--abcxx");
    const auto body = form.finish();
    const auto type = form.content_type();
    const auto boundary = type.substr(type.find('=') + 1);
    EXPECT_NE(boundary, "abc");
    EXPECT_EQ(body.rfind("--" + boundary + "--\r\n"), body.size() - boundary.size() - 6);
    EXPECT_NE(body.find("xx--abcxx"), std::string::npos);

    MultipartForm generated;
    MultipartForm other;
    EXPECT_NE(generated.content_type(), other.content_type());
}

}  // namespace
}  // namespace tl::voice
