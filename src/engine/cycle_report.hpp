// What one sync cycle did: counters for logs, metrics and the exit status. Pure data.
#pragma once

#include "core/errc.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
    std::chrono::steady_clock::duration walk_time{}; // of elapsed: reading the local tree and summing its directories
    std::chrono::steady_clock::duration list_time{}; // of elapsed: listing the bucket

    std::vector<std::string> unmarked_dirs; // relative paths, "" for the root
    std::uint64_t list_requests = 0;  // S3 requests made by this cycle, retries not counted
    std::uint64_t put_requests = 0;
    std::uint64_t get_requests = 0;
    std::uint64_t retries = 0;

    // Exit status (docs/behaviour.md): 0 every directory verified and marked, 1 something not synced, 3 fatal.
    int exit_status() const
    {
        if (fatal)
            return 3;
        if (pending || conflicts || failed || !root_marked)
            return 1;
        return 0;
    }
};

} // namespace syncd
