// Process metrics, rendered as Prometheus text, and the health verdict for /healthz. Pure: the
// caller feeds cycle reports and passes the time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace syncd {

struct cycle_report;

class metrics {
public:
    using clock = std::chrono::system_clock;

    explicit metrics(std::chrono::nanoseconds interval) : interval_(interval) {}
    void set_interval(std::chrono::nanoseconds interval) { interval_ = interval; }

    void cycle_started(clock::time_point now);
    void cycle_finished(const cycle_report& r, clock::time_point now);

    std::string render(clock::time_point now) const;

    struct health {
        bool ok = false;
        std::string reason;
    };
    health check(clock::time_point now) const;

private:
    std::chrono::nanoseconds interval_;
    std::uint64_t cycles_ = 0;
    double last_duration_s_ = 0;
    std::uint64_t files_uploaded_ = 0;
    std::uint64_t bytes_uploaded_ = 0;
    std::uint64_t markers_written_ = 0;
    std::map<std::string, std::uint64_t> requests_; // S3 operation -> count
    std::map<std::string, std::uint64_t> errors_; // kind -> count
    std::uint64_t conflicts_ = 0;                 // in the last cycle
    std::uint64_t pending_ = 0;
    std::uint64_t dirs_marked_ = 0;
    std::uint64_t dirs_unmarked_ = 0;
    std::map<std::string, clock::time_point> unmarked_since_;
    std::optional<clock::time_point> last_success_;
    std::optional<clock::time_point> started_;
    std::optional<clock::time_point> last_finish_;
    bool in_progress_ = false;
    std::string last_failure_;
};

} // namespace syncd
