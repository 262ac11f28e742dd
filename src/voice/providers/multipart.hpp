#pragma once
// multipart/form-data bodies (RFC 7578) for file uploads such as the transcription endpoint.
// Pure; thread-safety: one builder per body.

#include <string>
#include <string_view>
#include <vector>

namespace tl::voice {

class MultipartForm {
public:
    // `boundary` empty: one is generated. A boundary found inside a part's content when
    // finish() runs is replaced by a fresh one (RFC 7578 §4.1: it must not occur in the data).
    explicit MultipartForm(std::string boundary = {});

    void add_field(std::string name, std::string value);
    void add_file(std::string name,
                  std::string filename,
                  std::string content_type,
                  std::string content);

    // "multipart/form-data; boundary=..."; valid once finish() has run.
    std::string content_type() const;
    // The body: each part with its Content-Disposition (and Content-Type for files), CRLF line
    // ends, closed by the final delimiter.
    std::string finish();

private:
    struct Part {
        std::string name;
        std::string filename;  // empty for a plain field
        std::string content_type;
        std::string content;
    };
    std::vector<Part> parts_;
    std::string boundary_;
};

}  // namespace tl::voice
