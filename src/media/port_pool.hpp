#pragma once
// RTP port allocation from --rtp-ports: even RTP ports with RTCP on the next odd one (RFC 3550
// §11). A lease returns its pair on destruction. Thread-safe.

#include <memory>
#include <string>
#include <mutex>
#include <vector>

#include "common/error.hpp"

namespace tl::media {

class PortPool;

// True when both ports of the pair (rtp, rtp + 1) can be bound on `ip` right now.
bool pair_bindable(const std::string& ip, int rtp_port);

class PortLease {
public:
    PortLease() = default;
    PortLease(std::shared_ptr<PortPool> pool, int rtp_port);
    PortLease(PortLease&& other) noexcept;
    PortLease& operator=(PortLease&& other) noexcept;
    PortLease(const PortLease&) = delete;
    PortLease& operator=(const PortLease&) = delete;
    ~PortLease();

    int rtp_port() const { return rtp_port_; }
    int rtcp_port() const { return rtp_port_ + 1; }
    explicit operator bool() const { return rtp_port_ != 0; }

private:
    std::shared_ptr<PortPool> pool_;
    int rtp_port_ = 0;
};

class PortPool : public std::enable_shared_from_this<PortPool> {
public:
    // [low, high]; low is rounded up to even.
    static std::shared_ptr<PortPool> create(int low, int high);

    // kUnavailable when every pair is leased. Ports are handed out round-robin so a port just
    // released is not reused at once (late packets of the previous call).
    Result<PortLease> acquire();

    int in_use() const;
    int capacity() const;

private:
    friend class PortLease;
    PortPool(int low, int high);
    void release(int rtp_port);

    mutable std::mutex mutex_;
    int low_;
    int pairs_;
    std::vector<bool> used_;
    int next_ = 0;
    int in_use_ = 0;
};

// A leased pair that is bindable now, for an SDP that names the port before the session binds
// it (an outbound offer): skips up to `attempts` pairs another process holds.
Result<PortLease> acquire_bindable(PortPool& pool, const std::string& ip, int attempts = 4);

}  // namespace tl::media
