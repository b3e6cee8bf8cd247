// A shutdown (SIGTERM/SIGINT): stopped() is the one answer to "is a shutdown asked for", and the
// coroutines that wait for one are woken instead of polling it: each waits on a steady_timer set
// to never expire (the condition-variable idiom of byte_budget), registered here while it waits,
// and stop() cancels them all. Read stopped() before waiting (a timer registered after stop() is
// not woken) and after waking (a timer may be cancelled for another reason).
// Lives on the io_context thread: no locks.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <vector>

namespace syncd {

class stop_signal {
public:
    void stop()
    {
        stopped_ = true;
        for (auto* t : timers_)
            t->cancel();
    }
    bool stopped() const { return stopped_; }

    // Keeps timer registered for as long as it lives (none when signal is null).
    class registration {
    public:
        registration(stop_signal* signal, boost::asio::steady_timer& timer) : signal_(signal), timer_(&timer)
        {
            if (signal_)
                signal_->timers_.push_back(timer_);
        }
        ~registration()
        {
            if (signal_)
                std::erase(signal_->timers_, timer_);
        }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;

    private:
        stop_signal* signal_;
        boost::asio::steady_timer* timer_;
    };

private:
    bool stopped_ = false;
    std::vector<boost::asio::steady_timer*> timers_;
};

} // namespace syncd
