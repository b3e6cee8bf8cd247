// Runs n copies of a coroutine side by side on the current executor and waits for all of them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <exception>

namespace syncd {

// make_task() returns an awaitable<void>; it is called n times. The first exception a task
// throws is rethrown once every task has finished.
template <class MakeTask>
boost::asio::awaitable<void> run_parallel(std::size_t n, MakeTask make_task)
{
    namespace asio = boost::asio;
    auto ex = co_await asio::this_coro::executor;
    std::size_t running = n;
    std::exception_ptr failure;
    asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
    for (std::size_t i = 0; i < n; ++i) {
        asio::co_spawn(ex, make_task(), [&](std::exception_ptr e) {
            if (e && !failure)
                failure = e;
            if (--running == 0)
                all_done.cancel();
        });
    }
    boost::system::error_code ec;
    if (running > 0)
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (failure)
        std::rethrow_exception(failure);
}

} // namespace syncd
