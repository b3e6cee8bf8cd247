// How far a cycle has got: counters the cycle updates (on the io_context thread) and the pure
// formatting of a progress line from them (docs/operations.md "Logs": long cycles report progress).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace syncd {

struct cycle_progress {
    bool planned = false;            // totals are known (walk, list and diff are done)
    std::uint64_t files_total = 0;   // files this cycle will try to upload
    std::uint64_t bytes_total = 0;
    std::uint64_t files_done = 0;    // uploaded, failed or given up (pending) so far
    std::uint64_t bytes_done = 0;
};

// "12/340 files, 1.2 MiB/3.4 GiB, 45.6 MiB/s, ETA 1m20s" (or "walking and listing" before totals exist).
// elapsed is the time since the uploads began.
std::string format_progress(const cycle_progress& p, std::chrono::steady_clock::duration elapsed);

// "1h02m", "3m20s", "45s"
std::string format_eta(std::chrono::seconds s);

} // namespace syncd
