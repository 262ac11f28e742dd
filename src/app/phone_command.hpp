#pragma once
// `trunkline call`: a test phone built from the same SIP and media code as the server. It places
// one call, plays a WAV file (or a sentence spoken by the embedded espeak-ng) into it, records
// what it hears and prints what happened, so a newcomer can hear the demo assistant, and
// operators can test a trunk from the command line. With --answer it takes one call instead: it
// listens on --listen, answers the first INVITE, plays, records, and prints what happened (the
// demo's "human agent" that the assistant transfers to).

#include <string>
#include <vector>

namespace tl::app {

struct PhoneOptions {
    std::string target;                // sip:+31850835037@127.0.0.1:5060 (calling)
    std::string play;                  // WAV file to send (any rate, mono or stereo 16-bit)
    // Sentences spoken by espeak-ng before `play`, 3 s apart (time for the assistant to answer).
    std::vector<std::string> say;
    std::string record;                // WAV file (8 kHz) of what was heard
    std::vector<std::string> headers;  // "Name: value"
    std::string user;
    std::string password;
    std::string from_user = "trunkline-phone";
    std::string local_ip;  // empty: the address the system routes to the target from
    double duration_seconds = 10;
    bool answer = false;                    // take one call instead of placing one
    std::string listen = "127.0.0.1:5070";  // answering: where to wait for the INVITE
    double wait_seconds = 0;                // answering: give up after this long; 0: never
};

int run_phone(const PhoneOptions& options);

namespace phone {
// `trunkline call --answer` (phone_answer.cpp).
int run_answering_phone(const PhoneOptions& options);
}  // namespace phone

}  // namespace tl::app
