#include "media/port_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace tl::media {

PortLease::PortLease(std::shared_ptr<PortPool> pool, int rtp_port)
    : pool_(std::move(pool)), rtp_port_(rtp_port) {}

PortLease::PortLease(PortLease&& other) noexcept
    : pool_(std::move(other.pool_)), rtp_port_(std::exchange(other.rtp_port_, 0)) {}

PortLease& PortLease::operator=(PortLease&& other) noexcept {
    if (this != &other) {
        if (pool_ && rtp_port_ != 0) pool_->release(rtp_port_);
        pool_ = std::move(other.pool_);
        rtp_port_ = std::exchange(other.rtp_port_, 0);
    }
    return *this;
}

PortLease::~PortLease() {
    if (pool_ && rtp_port_ != 0) pool_->release(rtp_port_);
}

std::shared_ptr<PortPool> PortPool::create(int low, int high) {
    return std::shared_ptr<PortPool>(new PortPool(low, high));
}

PortPool::PortPool(int low, int high) {
    // Port 0 is "any port" and 65535 cannot carry a pair: clamp to usable even/odd pairs.
    low = std::max(low, 2);
    low += low % 2;
    high = std::min(high, 65535);
    low_ = low;
    pairs_ = high > low ? (high - low + 1) / 2 : 0;
    used_.assign(static_cast<std::size_t>(pairs_), false);
}

Result<PortLease> PortPool::acquire() {
    std::lock_guard lock(mutex_);
    for (int tried = 0; tried < pairs_; ++tried) {
        const int index = next_;
        next_ = (next_ + 1) % pairs_;
        if (!used_[static_cast<std::size_t>(index)]) {
            used_[static_cast<std::size_t>(index)] = true;
            ++in_use_;
            return PortLease(shared_from_this(), low_ + 2 * index);
        }
    }
    return make_error(
        Errc::kUnavailable,
        "every RTP port pair is in use (" + std::to_string(pairs_) + " pairs); widen --rtp-ports");
}

int PortPool::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

int PortPool::capacity() const { return pairs_; }

void PortPool::release(int rtp_port) {
    std::lock_guard lock(mutex_);
    const int index = (rtp_port - low_) / 2;
    if (index < 0 || index >= pairs_ || !used_[static_cast<std::size_t>(index)]) return;
    used_[static_cast<std::size_t>(index)] = false;
    --in_use_;
}

bool pair_bindable(const std::string& ip, int rtp_port) {
    boost::asio::io_context io;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(ip, ec);
    if (ec) return false;
    const auto protocol = address.is_v6() ? boost::asio::ip::udp::v6() : boost::asio::ip::udp::v4();
    boost::asio::ip::udp::socket rtp(io), rtcp(io);
    rtp.open(protocol, ec);
    if (!ec) rtp.bind({address, static_cast<unsigned short>(rtp_port)}, ec);
    if (!ec) rtcp.open(protocol, ec);
    if (!ec) rtcp.bind({address, static_cast<unsigned short>(rtp_port + 1)}, ec);
    return !ec;
}

Result<PortLease> acquire_bindable(PortPool& pool, const std::string& ip, int attempts) {
    for (int attempt = 0; attempt < attempts; ++attempt) {
        auto lease = pool.acquire();
        if (!lease) return lease.error();
        if (pair_bindable(ip, lease->rtp_port())) return lease;
    }
    return make_error(Errc::kUnavailable, "no free RTP port pair");
}

}  // namespace tl::media
