// A shared allowance, taken and given back in units: bytes held in memory by transfers (the
// cycle's 256 MiB budget), and also slots counted one per unit (requests on the wire in
// s3::client, multipart parts in flight). A claim larger than the whole allowance may still run,
// alone. Waiters are served by priority (lower first), then in arrival order.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>

namespace syncd {

class byte_budget {
public:
    explicit byte_budget(std::uint64_t limit) : limit_(limit) {}

    boost::asio::awaitable<void> acquire(std::uint64_t n, std::uint64_t priority = 0)
    {
        if (waiters_.empty() && fits(n)) {
            used_ += n;
            co_return;
        }
        boost::asio::steady_timer wake(co_await boost::asio::this_coro::executor,
                                       boost::asio::steady_timer::time_point::max());
        const auto after = std::upper_bound(waiters_.begin(), waiters_.end(), priority,
                                            [](std::uint64_t p, const waiter& w) { return p < w.priority; });
        waiters_.insert(after, {n, priority, &wake});
        boost::system::error_code ec;
        co_await wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        // release() accounted for us before waking us.
    }

    void release(std::uint64_t n)
    {
        used_ -= n;
        while (!waiters_.empty() && fits(waiters_.front().bytes)) {
            used_ += waiters_.front().bytes;
            waiters_.front().wake->cancel();
            waiters_.pop_front();
        }
    }

    std::uint64_t limit() const { return limit_; }

private:
    bool fits(std::uint64_t n) const { return used_ == 0 || used_ + n <= limit_; }

    struct waiter {
        std::uint64_t bytes;
        std::uint64_t priority;
        boost::asio::steady_timer* wake;
    };
    std::uint64_t limit_;
    std::uint64_t used_ = 0;
    std::deque<waiter> waiters_;
};

} // namespace syncd
