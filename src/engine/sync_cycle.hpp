// One sync cycle: walk, list, diff, upload, report. Drives the pure cores; moves the bytes.
#pragma once

#include "core/config.hpp"
#include "core/progress.hpp"
#include "core/stop_signal.hpp"
#include "engine/cycle_report.hpp"
#include "engine/list_ranges.hpp"
#include "protocol/s3_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <filesystem>

namespace syncd {

struct cycle_options {
    bool dry_run = false;
    std::filesystem::path state_dir; // where the marker cache lives
    stop_signal* stop = nullptr;     // SIGTERM/SIGINT: start nothing new; wakes the multipart uploads' watches
    cycle_progress* progress = nullptr; // updated as the cycle goes, for progress lines
    // Local files per listing range (list_ranges.hpp); tests lower it through the environment
    // (SYNCD_FILES_PER_LIST_RANGE) to cut a small tree's listing.
    std::size_t files_per_list_range = files_per_range;
};

boost::asio::awaitable<cycle_report> run_cycle(s3::client& s3, const config& cfg, cycle_options opt);

} // namespace syncd
