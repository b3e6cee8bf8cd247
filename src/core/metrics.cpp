#include "core/metrics.hpp"

#include "engine/cycle_report.hpp"

#include <algorithm>
#include <cstdio>

namespace syncd {
namespace {

double seconds_since_epoch(metrics::clock::time_point t)
{
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void sample(std::string& out, const char* name, const char* type, const char* help, double value,
            const std::string& labels = {})
{
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    out += name + (labels.empty() ? std::string() : "{" + labels + "}") + " " + buf + "\n";
}

} // namespace

void metrics::cycle_started(clock::time_point now)
{
    in_progress_ = true;
    started_ = now;
}

void metrics::cycle_finished(const cycle_report& r, clock::time_point now)
{
    in_progress_ = false;
    last_finish_ = now;
    ++cycles_;
    last_duration_s_ = std::chrono::duration<double>(r.elapsed).count();
    files_uploaded_ += r.uploaded;
    bytes_uploaded_ += r.bytes_uploaded;
    markers_written_ += r.markers_written;
    requests_["list"] += r.list_requests;
    requests_["put"] += r.put_requests;
    requests_["get"] += r.get_requests;
    requests_["retry"] += r.retries;
    conflicts_ = r.conflicts;
    pending_ = r.pending;
    dirs_marked_ = r.dirs_marked;
    dirs_unmarked_ = r.dirs_unmarked;
    errors_["failed"] += r.failed;
    errors_["conflict"] += r.conflicts;
    if (r.fatal)
        ++errors_["fatal"];

    std::map<std::string, clock::time_point> still;
    for (const auto& d : r.unmarked_dirs) {
        auto it = unmarked_since_.find(d);
        still[d] = it == unmarked_since_.end() ? now : it->second;
    }
    unmarked_since_ = std::move(still);

    if (r.fatal) {
        last_failure_ = r.fatal->to_string();
    } else {
        last_failure_.clear();
        last_success_ = now;
    }
}

std::string metrics::render(clock::time_point now) const
{
    std::string out;
    sample(out, "syncd_cycles_total", "counter", "Sync cycles finished.", static_cast<double>(cycles_));
    sample(out, "syncd_cycle_duration_seconds", "gauge", "Duration of the last finished cycle.", last_duration_s_);
    sample(out, "syncd_cycle_in_progress", "gauge", "1 while a cycle runs.", in_progress_ ? 1 : 0);
    sample(out, "syncd_files_uploaded_total", "counter", "Files uploaded.", static_cast<double>(files_uploaded_));
    sample(out, "syncd_bytes_uploaded_total", "counter", "Bytes uploaded.", static_cast<double>(bytes_uploaded_));
    sample(out, "syncd_markers_written_total", "counter", "Sync markers written.", static_cast<double>(markers_written_));
    out += "# HELP syncd_s3_requests_total S3 requests by operation (retries counted separately).\n"
           "# TYPE syncd_s3_requests_total counter\n";
    for (const char* op : {"list", "put", "get", "retry"}) {
        auto it = requests_.find(op);
        out += std::string("syncd_s3_requests_total{operation=\"") + op + "\"} " +
               std::to_string(it == requests_.end() ? 0 : it->second) + "\n";
    }
    out += "# HELP syncd_errors_total Problems by kind (failed files, conflicts, fatal cycles).\n"
           "# TYPE syncd_errors_total counter\n";
    for (const char* kind : {"conflict", "failed", "fatal"}) {
        auto it = errors_.find(kind);
        out += std::string("syncd_errors_total{kind=\"") + kind + "\"} " +
               std::to_string(it == errors_.end() ? 0 : it->second) + "\n";
    }
    sample(out, "syncd_conflicts", "gauge", "Size conflicts in the last cycle.", static_cast<double>(conflicts_));
    sample(out, "syncd_pending_files", "gauge", "Files left for a later cycle by the last one.", static_cast<double>(pending_));
    sample(out, "syncd_directories_marked", "gauge", "Directories with a current marker after the last cycle.",
           static_cast<double>(dirs_marked_));
    sample(out, "syncd_directories_unmarked", "gauge", "Directories without a current marker after the last cycle.",
           static_cast<double>(dirs_unmarked_));
    double oldest = 0;
    for (const auto& [dir, since] : unmarked_since_)
        oldest = std::max(oldest, std::chrono::duration<double>(now - since).count());
    sample(out, "syncd_oldest_unmarked_directory_age_seconds", "gauge",
           "How long the longest-unmarked directory has been unmarked.", oldest);
    sample(out, "syncd_last_success_timestamp_seconds", "gauge", "End of the last cycle that was not fatal (Unix time).",
           last_success_ ? seconds_since_epoch(*last_success_) : 0);
    return out;
}

metrics::health metrics::check(clock::time_point now) const
{
    if (!last_failure_.empty())
        return {false, "last cycle failed: " + last_failure_};
    if (!last_success_) {
        if (in_progress_)
            return {true, "first cycle in progress"};
        return {false, "no cycle has finished yet"};
    }
    // On schedule: the last successful cycle ended less than max(2 intervals, 1 minute) ago, or
    // the cycle running now started less than that long ago.
    const auto allowance = std::max<std::chrono::nanoseconds>(2 * interval_, std::chrono::minutes(1));
    const auto since = now - *last_success_;
    if (since > allowance && !(in_progress_ && started_ && now - *started_ < allowance))
        return {false, "no successful cycle for " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count()) + " s"};
    return {true, "ok"};
}

} // namespace syncd
