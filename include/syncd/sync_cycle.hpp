// One sync cycle: walk, list, diff, upload, report. Drives the pure cores; moves the bytes.
#pragma once

#include "syncd/config.hpp"
#include "syncd/errc.hpp"
#include "syncd/s3_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace syncd {

struct cycle_report {
    std::uint64_t files_seen = 0;
    std::uint64_t uploaded = 0;
    std::uint64_t bytes_uploaded = 0;
    std::uint64_t verified = 0;       // already in S3 with the same size
    std::uint64_t pending = 0;        // settling, or changed while read: next cycle
    std::uint64_t conflicts = 0;
    std::uint64_t failed = 0;         // upload errors and names that cannot be keys
    std::uint64_t skipped = 0;        // symlinks, special files, excluded
    std::uint64_t markers_written = 0;
    std::uint64_t dirs_marked = 0;    // complete with a current marker (written or already there)
    std::uint64_t dirs_unmarked = 0;
    bool root_marked = false;
    std::optional<error> fatal;       // endpoint, bucket or credentials: the cycle stopped
    std::chrono::steady_clock::duration elapsed{};

    // PRODUCT §1: 0 every directory verified and marked, 1 something not synced, 3 fatal.
    int exit_status() const;
};

struct cycle_options {
    bool dry_run = false;
    std::filesystem::path state_dir; // where the marker cache lives
    const bool* stopping = nullptr;  // set on SIGTERM/SIGINT: start nothing new
};

boost::asio::awaitable<cycle_report> run_cycle(s3::client& s3, const config& cfg, cycle_options opt);

} // namespace syncd
