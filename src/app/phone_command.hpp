#pragma once
// `trunkline call`: a test phone built from the same SIP and media code as the server. It places
// one call, plays a WAV file into it, records what it hears and prints what happened, so a
// newcomer can hear the demo assistant, and operators can test a trunk from the command line.

#include <string>
#include <vector>

namespace tl::app {

struct PhoneOptions {
    std::string target;   // sip:+31850835037@127.0.0.1:5060
    std::string play;     // WAV file to send (any rate, mono or stereo 16-bit)
    std::string record;   // WAV file (8 kHz) of what was heard
    std::vector<std::string> headers;  // "Name: value"
    std::string user;
    std::string password;
    std::string from_user = "trunkline-phone";
    std::string local_ip;  // empty: the address the system routes to the target from
    double duration_seconds = 10;
};

int run_phone(const PhoneOptions& options);

}  // namespace tl::app
