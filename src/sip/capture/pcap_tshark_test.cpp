// Checks write_pcap against a real reader: tshark must open the file, decode the SIP in it and
// find nothing wrong with it, checksums included. tshark is a test dependency (Debian package
// tshark): without it this test fails, so a missing tool never passes for a working writer.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "common/temp_dir.hpp"
#include "sip/capture/pcap.hpp"
#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

struct CommandResult {
    int status = -1;
    std::string out;
    std::string err;
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `command` through the shell; stderr goes to a file, so tshark's notes (such as the one
// about running as root) do not mix with its fields.
CommandResult run_command(const std::string& command, const std::filesystem::path& err_file) {
    CommandResult result;
    FILE* pipe = ::popen((command + " 2>" + err_file.string()).c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
    result.status = ::pclose(pipe);
    result.err = read_file(err_file);
    return result;
}

CaptureSnapshot loopback_capture() {
    const auto at = [](long long ms, Direction d, std::string_view raw,
                       std::string_view transport) {
        CapturedMessage m = test::message(ms, d, "127.0.0.1", raw, transport);
        m.local_ip = "127.0.0.1";
        m.local_port = 5080;
        m.remote_port = 5090;
        return m;
    };
    const std::string headers =
        "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1\r\n"
        "From: <sip:a@127.0.0.1:5080>;tag=1\r\n"
        "To: <sip:b@127.0.0.1:5090>\r\n"
        "Call-ID: pcap-test-1\r\n";
    CaptureSnapshot s;
    s.messages.push_back(at(0, Direction::kOut,
                            "INVITE sip:b@127.0.0.1:5090 SIP/2.0\r\n" + headers +
                                "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                            "udp"));
    s.messages.push_back(
        at(20, Direction::kIn,
           "SIP/2.0 486 Busy Here\r\n" + headers + "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
           "tcp"));
    return s;
}

TEST(PcapTshark, TsharkReadsTheSipBack) {
    const TempDir dir("tl_pcap");
    const auto file = dir.path() / "capture.pcap";
    {
        std::ofstream out(file, std::ios::binary);
        const std::string bytes = write_pcap(loopback_capture());
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    const CommandResult fields = run_command("tshark -r " + file.string() +
                                                 " -d udp.port==5080,sip -d tcp.port==5080,sip"
                                                 " -T fields -e sip.Method -e sip.Status-Code",
                                             dir.path() / "stderr");
    ASSERT_EQ(fields.status, 0) << "tshark (apt-get install tshark) failed or is missing: "
                                << fields.err;
    EXPECT_EQ(fields.out, "INVITE\t\n\t486\n") << fields.err;
}

TEST(PcapTshark, TsharkFindsNothingWrong) {
    // Everything at once: IPv4 and IPv6, UDP and TCP both ways, a message split over two
    // segments, checksums verified (tshark skips that by default).
    auto s = test::transfer_call();
    s.messages[4].transport = "tcp";
    s.messages[3].transport = "tcp";
    s.messages[6].local_ip = "2001:db8::5";
    s.messages[6].remote_ip = "2001:db8::10";
    std::string big =
        "MESSAGE sip:b@127.0.0.1 SIP/2.0\r\nCSeq: 3 MESSAGE\r\nContent-Length: 70000\r\n\r\n";
    big += std::string(70000, 'x');
    s.messages.push_back(test::message(61000, Direction::kOut, test::kCarrierIp, big, "tcp"));

    const TempDir dir("tl_pcap");
    const auto file = dir.path() / "capture.pcap";
    {
        std::ofstream out(file, std::ios::binary);
        const std::string bytes = write_pcap(s);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    const std::string checks =
        " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE";
    const CommandResult frames = run_command(
        "tshark -r " + file.string() + " -d tcp.port==5060,sip -T fields -e frame.number",
        dir.path() / "stderr");
    ASSERT_EQ(frames.status, 0) << "tshark (apt-get install tshark) failed or is missing: "
                                << frames.err;
    EXPECT_EQ(std::count(frames.out.begin(), frames.out.end(), '\n'), 15);
    const CommandResult bad =
        run_command("tshark -r " + file.string() + checks + " -d tcp.port==5060,sip" +
                        " -Y '_ws.malformed || _ws.expert.severity >= \"warning\" ||"
                        " ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" ||"
                        " tcp.checksum.status == \"Bad\"'",
                    dir.path() / "stderr");
    ASSERT_EQ(bad.status, 0) << bad.err;
    EXPECT_EQ(bad.out, "") << "frames tshark flags";
    const CommandResult sip = run_command("tshark -r " + file.string() + " -d tcp.port==5060,sip" +
                                              " -T fields -e sip.CSeq.method -e sip.Status-Code",
                                          dir.path() / "stderr");
    ASSERT_EQ(sip.status, 0) << sip.err;
    EXPECT_NE(sip.out.find("MESSAGE\t\n"), std::string::npos) << sip.out;  // reassembled
}

}  // namespace
}  // namespace tl::sip
