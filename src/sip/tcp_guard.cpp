#include "sip/tcp_guard.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "common/log.hpp"

namespace tl::sip {
namespace {

constexpr int kEstablished = 1;
constexpr int kCloseWait = 8;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool parse_hex(std::string_view text, unsigned long& out) {
    if (text.empty() || text.size() > 16) return false;
    out = 0;
    for (const char c : text) {
        const int v = hex_value(c);
        if (v < 0) return false;
        out = out * 16 + static_cast<unsigned long>(v);
    }
    return true;
}

// "0100007F:13C4" (IPv4: one 32-bit word in host byte order) or 32 hex digits (IPv6: four such
// words), then the port in hex.
bool parse_endpoint(std::string_view text, bool v6, std::string& ip, int& port) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    const auto address = text.substr(0, colon);
    unsigned long port_value = 0;
    if (!parse_hex(text.substr(colon + 1), port_value) || port_value > 65535) return false;
    port = static_cast<int>(port_value);
    const std::size_t words = v6 ? 4 : 1;
    if (address.size() != words * 8) return false;
    unsigned char bytes[16] = {};
    for (std::size_t w = 0; w < words; ++w) {
        unsigned long word = 0;
        if (!parse_hex(address.substr(w * 8, 8), word)) return false;
        const auto value = static_cast<std::uint32_t>(word);
        std::memcpy(bytes + w * 4, &value, 4);  // the kernel printed it in host order
    }
    char buffer[INET6_ADDRSTRLEN] = {};
    if (!v6) {
        inet_ntop(AF_INET, bytes, buffer, sizeof buffer);
    } else {
        inet_ntop(AF_INET6, bytes, buffer, sizeof buffer);
        std::string text6(buffer);
        // IPv4-mapped addresses are IPv4 sources (a dual-stack listener).
        if (text6.rfind("::ffff:", 0) == 0 && text6.find('.') != std::string::npos) {
            ip = text6.substr(7);
            return true;
        }
    }
    ip = buffer;
    return true;
}

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The peer address of a connected socket, or empty.
std::string peer_of(int fd, int expected_local_port) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return {};
    int local_port = 0;
    if (local.ss_family == AF_INET) {
        local_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    } else if (local.ss_family == AF_INET6) {
        local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    }
    if (local_port != expected_local_port) return {};
    sockaddr_storage peer{};
    len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return {};
    char buffer[INET6_ADDRSTRLEN] = {};
    if (peer.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, buffer, sizeof buffer);
    } else if (peer.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, buffer,
                  sizeof buffer);
        std::string text6(buffer);
        if (text6.rfind("::ffff:", 0) == 0 && text6.find('.') != std::string::npos) {
            return text6.substr(7);
        }
    }
    return buffer;
}

// Milliseconds since data last went either way on a TCP socket; -1 when the kernel does not say.
long idle_ms(int fd) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
    return static_cast<long>(std::min(info.tcpi_last_data_recv, info.tcpi_last_data_sent));
}

long descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    return limit.rlim_cur == RLIM_INFINITY ? 1L << 20 : static_cast<long>(limit.rlim_cur);
}

}  // namespace

std::vector<TcpSocketRow> parse_proc_net_tcp(std::string_view text, bool v6) {
    std::vector<TcpSocketRow> rows;
    std::size_t start = text.find('\n');  // the first line is the column header
    while (start != std::string_view::npos && start + 1 < text.size()) {
        const auto end = text.find('\n', start + 1);
        const auto line = text.substr(
            start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1);
        start = end;
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        std::vector<std::string_view> fields;
        std::size_t i = 0;
        while (i < line.size() && fields.size() < 10) {
            while (i < line.size() && line[i] == ' ') ++i;
            const auto field_end = line.find(' ', i);
            const auto field = line.substr(
                i, field_end == std::string_view::npos ? std::string_view::npos : field_end - i);
            if (!field.empty()) fields.push_back(field);
            if (field_end == std::string_view::npos) break;
            i = field_end;
        }
        if (fields.size() < 10) continue;
        TcpSocketRow row;
        unsigned long state = 0;
        if (!parse_endpoint(fields[1], v6, row.local_ip, row.local_port) ||
            !parse_endpoint(fields[2], v6, row.remote_ip, row.remote_port) ||
            !parse_hex(fields[3], state)) {
            continue;
        }
        row.state = static_cast<int>(state);
        unsigned long inode = 0;
        bool digits = !fields[9].empty();
        for (const char c : fields[9]) {
            if (c < '0' || c > '9')
                digits = false;
            else
                inode = inode * 10 + static_cast<unsigned long>(c - '0');
        }
        if (!digits) continue;
        row.inode = inode;
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<std::size_t> connections_over_limits(const std::vector<std::string>& sources,
                                                 int max_per_source,
                                                 int max_total) {
    std::vector<bool> keep(sources.size(), true);
    std::unordered_map<std::string, int> counts;
    // Oldest first: a source over its cap loses its newest connections.
    for (std::size_t i = 0; i < sources.size(); ++i) {
        if (++counts[sources[i]] > max_per_source) keep[i] = false;
    }
    int total = static_cast<int>(std::count(keep.begin(), keep.end(), true));
    if (total > max_total) {
        // Still too many: take from the busiest sources first, newest connection first.
        std::unordered_map<std::string, int> kept;
        for (std::size_t i = 0; i < sources.size(); ++i) {
            if (keep[i]) ++kept[sources[i]];
        }
        while (total > max_total) {
            int most = 0;
            for (const auto& [source, count] : kept) most = std::max(most, count);
            // The newest connection of a source that holds the most (ties: the newest wins).
            for (std::size_t i = sources.size(); i-- > 0;) {
                if (keep[i] && kept[sources[i]] == most) {
                    keep[i] = false;
                    --kept[sources[i]];
                    break;
                }
            }
            --total;
        }
    }
    std::vector<std::size_t> shut;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        if (!keep[i]) shut.push_back(i);
    }
    return shut;
}

bool tcp_connection_established(int local_port, std::string_view remote_ip, int remote_port) {
    for (const auto& [path, v6] : {std::pair{"/proc/self/net/tcp", false},
                                   std::pair{"/proc/self/net/tcp6", true}}) {
        for (const auto& row : parse_proc_net_tcp(read_file(path), v6)) {
            if (row.state == kEstablished && row.local_port == local_port &&
                row.remote_port == remote_port && row.remote_ip == remote_ip) {
                return true;
            }
        }
    }
    return false;
}

std::optional<std::pair<std::string, int>> local_end_of_tcp_connection(int listen_port,
                                                                       std::string_view remote_ip,
                                                                       int remote_port) {
    std::optional<std::pair<std::string, int>> found;
    for (const auto& [path, v6] : {std::pair{"/proc/self/net/tcp", false},
                                   std::pair{"/proc/self/net/tcp6", true}}) {
        for (const auto& row : parse_proc_net_tcp(read_file(path), v6)) {
            if (row.state != kEstablished || row.remote_port != remote_port ||
                row.remote_ip != remote_ip) {
                continue;
            }
            if (row.local_port == listen_port) return std::pair{row.local_ip, row.local_port};
            if (!found) found = std::pair{row.local_ip, row.local_port};
        }
    }
    return found;
}

long raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    return descriptor_limit();
}

TcpConnectionGuard::TcpConnectionGuard(int sip_port,
                                       TcpGuardLimits limits,
                                       metrics::Registry& metrics)
    : port_(sip_port),
      limits_(limits),
      connections_(metrics.gauge("trunkline_sip_tcp_connections",
                                 "TCP connections to the SIP port, as of the last check.")),
      max_total_(metrics.gauge("trunkline_sip_tcp_connections_max",
                               "TCP connections to the SIP port allowed in total; beyond it the "
                               "newest of the busiest sources are closed.")),
      max_per_source_(metrics.gauge("trunkline_sip_tcp_connections_per_source_max",
                                    "TCP connections to the SIP port allowed per source address.")),
      max_fds_(metrics.gauge("process_max_fds", "Maximum number of open file descriptors.")),
      open_fds_(metrics.gauge("process_open_fds", "Number of open file descriptors.")),
      shut_down_(metrics.counter("trunkline_sip_tcp_connections_shut_total",
                                 "TCP connections to the SIP port shut down for exceeding the "
                                 "per-source or total cap.")),
      shut_idle_(metrics.counter("trunkline_sip_tcp_connections_idle_closed_total",
                                 "TCP connections to the SIP port shut down after "
                                 "--sip-tcp-idle-timeout without data.")) {
    const long fds = descriptor_limit();
    if (limits_.max_total <= 0) limits_.max_total = static_cast<int>(std::max(16L, fds / 2));
    max_total_.set(limits_.max_total);
    max_per_source_.set(limits_.max_per_source);
    max_fds_.set(fds);
}

TcpConnectionGuard::~TcpConnectionGuard() { stop(); }

void TcpConnectionGuard::start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            sweep();
            lock.lock();
            wake_.wait_for(lock, limits_.period, [this] { return stopping_; });
        }
    });
}

void TcpConnectionGuard::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void TcpConnectionGuard::sweep() {
    // Connections to our port, by socket inode.
    std::unordered_map<unsigned long, std::string> peers;
    for (const auto& [path, v6] :
         {std::pair{"/proc/self/net/tcp", false}, std::pair{"/proc/self/net/tcp6", true}}) {
        for (const auto& row : parse_proc_net_tcp(read_file(path), v6)) {
            if (row.local_port != port_ || row.remote_port == 0) continue;
            if (row.state != kEstablished && row.state != kCloseWait) continue;
            peers.emplace(row.inode, row.remote_ip);
        }
    }
    // Which of our descriptors they are, in descriptor order (newer connections usually get
    // higher numbers).
    struct Connection {
        unsigned long inode;
        std::string source;
    };
    std::map<int, Connection> by_fd;
    long open = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] == '.') continue;
            ++open;
            const std::string link = std::string("/proc/self/fd/") + entry->d_name;
            char target[64] = {};
            const auto n = ::readlink(link.c_str(), target, sizeof target - 1);
            if (n <= 0) continue;
            const std::string_view text(target, static_cast<std::size_t>(n));
            if (text.rfind("socket:[", 0) != 0 || text.back() != ']') continue;
            unsigned long inode = 0;
            for (const char c : text.substr(8, text.size() - 9)) {
                inode = inode * 10 + static_cast<unsigned long>(c - '0');
            }
            if (const auto it = peers.find(inode); it != peers.end()) {
                by_fd.emplace(std::atoi(entry->d_name), Connection{inode, it->second});
            }
        }
        ::closedir(dir);
    }
    open_fds_.set(open);
    connections_.set(static_cast<std::int64_t>(by_fd.size()));
    // Connections shut down before and not yet freed by the stack count no more.
    std::unordered_set<unsigned long> still_shut;
    std::vector<int> fds;
    std::vector<std::string> sources;
    for (const auto& [fd, connection] : by_fd) {
        if (shut_inodes_.count(connection.inode)) {
            still_shut.insert(connection.inode);
            continue;
        }
        fds.push_back(fd);
        sources.push_back(connection.source);
    }
    shut_inodes_ = std::move(still_shut);
    // Idle ones first: they are gone before the caps count.
    std::vector<int> live_fds;
    std::vector<std::string> live_sources;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        const long idle = idle_ms(fds[i]);
        if (idle >= 0 && idle >= limits_.idle_timeout.count() &&
            peer_of(fds[i], port_) == sources[i]) {
            ::shutdown(fds[i], SHUT_RDWR);
            shut_inodes_.insert(by_fd.at(fds[i]).inode);
            shut_idle_.inc();
            continue;
        }
        live_fds.push_back(fds[i]);
        live_sources.push_back(sources[i]);
    }
    fds = std::move(live_fds);
    sources = std::move(live_sources);
    for (const auto index :
         connections_over_limits(sources, limits_.max_per_source, limits_.max_total)) {
        const int fd = fds[index];
        if (peer_of(fd, port_) != sources[index]) continue;  // closed meanwhile, number reused
        ::shutdown(fd, SHUT_RDWR);
        shut_inodes_.insert(by_fd.at(fd).inode);
        shut_down_.inc();
        log::rate_limited("sip.tcp.over_cap", spdlog::level::warn,
                          "sip: TCP connection from {} shut down: over the connection cap ({} per "
                          "source, {} in total)",
                          sources[index], limits_.max_per_source, limits_.max_total);
    }
}

}  // namespace tl::sip
