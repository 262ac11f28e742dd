#pragma once
// Bounds what untrusted TCP peers can hold of the SIP port. sofia-sip accepts every connection
// and has no limit of its own, so a watchdog looks at the process's sockets on the SIP port
// (/proc/self/net/tcp{,6} and /proc/self/fd) once a second and shuts down connections idle for
// `idle_timeout` (no data either way, from the kernel's TCP_INFO), the newest connections of any
// source over `max_per_source`, and the newest of the busiest sources while the total is over
// `max_total`. sofia then sees the end of the stream and frees the connection as if the peer had
// closed it. Connections stuck on an incomplete or unparseable message are closed by the stack
// itself (its idle and message timeouts).
//
// shutdown(2) on a descriptor sofia owns is safe: it never closes or reuses the descriptor. A
// descriptor number that sofia closed and the kernel reused between the scan and the shutdown is
// re-checked (local port and peer address) first.
//
// Thread-safety: start() once; the watchdog runs on its own thread until stop() or destruction.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/metrics.hpp"

namespace tl::sip {

struct TcpGuardLimits {
    int max_per_source = 32;
    // 0: half of the process's descriptor limit (RLIMIT_NOFILE), so SIP peers can never take
    // the descriptors the API, RTP and the database need.
    int max_total = 0;
    // No data either way for this long: shut down. The stack's own idle timer misses
    // connections that never sent anything (sofia arms it only after traffic).
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds period{1000};
};

// One row of /proc/net/tcp or tcp6 (only what the guard needs).
struct TcpSocketRow {
    std::string local_ip;
    int local_port = 0;
    std::string remote_ip;
    int remote_port = 0;
    int state = 0;  // 1 ESTABLISHED, 8 CLOSE_WAIT, 10 LISTEN, ... (include/net/tcp_states.h)
    unsigned long inode = 0;
};

// Parses the text of /proc/net/tcp (`v6` false) or /proc/net/tcp6; malformed rows are skipped.
std::vector<TcpSocketRow> parse_proc_net_tcp(std::string_view text, bool v6);

// The connections to shut down so that no source holds more than `max_per_source` and all of
// them together no more than `max_total`: indexes into `sources` (one entry per connection, in
// the order they were opened: the newest go first).
std::vector<std::size_t> connections_over_limits(const std::vector<std::string>& sources,
                                                 int max_per_source,
                                                 int max_total);

// Whether this process holds an established TCP connection from `remote_ip`:`remote_port` to its
// `local_port` (read from /proc/self/net/tcp{,6}).
bool tcp_connection_established(int local_port, std::string_view remote_ip, int remote_port);

// This process's end (ip, port) of an established TCP connection with `remote_ip`:`remote_port`;
// one accepted on `listen_port` first. Empty when there is none.
std::optional<std::pair<std::string, int>> local_end_of_tcp_connection(int listen_port,
                                                                       std::string_view remote_ip,
                                                                       int remote_port);

// Raises the soft RLIMIT_NOFILE to the hard limit (a server that faces the internet needs
// descriptors; the default soft limit of 1024 is for interactive shells). Returns the new soft
// limit.
long raise_descriptor_limit();

class TcpConnectionGuard {
public:
    TcpConnectionGuard(int sip_port, TcpGuardLimits limits, metrics::Registry& metrics);
    ~TcpConnectionGuard();
    TcpConnectionGuard(const TcpConnectionGuard&) = delete;
    TcpConnectionGuard& operator=(const TcpConnectionGuard&) = delete;

    void start();
    void stop();
    void sweep();  // one pass (the thread calls it every period; tests call it directly)

private:
    int port_;
    TcpGuardLimits limits_;
    metrics::Gauge& connections_;
    metrics::Gauge& max_total_;
    metrics::Gauge& max_per_source_;
    metrics::Gauge& max_fds_;
    metrics::Gauge& open_fds_;
    metrics::Counter& shut_down_;
    metrics::Counter& shut_idle_;
    std::unordered_set<unsigned long> shut_inodes_;  // sweep() only
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tl::sip
