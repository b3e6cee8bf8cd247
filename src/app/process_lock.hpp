// One syncd per target (local_dir, endpoint, bucket, prefix: config.hpp's target_id): an flock(2)
// on a file in the state directory. The OS drops the lock when the process dies, so a crash
// never leaves it stale.
#pragma once

#include "core/config.hpp"
#include "core/errc.hpp"

#include <filesystem>

namespace syncd {

class process_lock {
public:
    // The lock of target in state_dir (created if missing). The error's message is the whole
    // sentence for the user: who holds the lock, or why it cannot be taken and what to do.
    static result<process_lock> acquire(const std::filesystem::path& state_dir, const target_id& target);
    process_lock(process_lock&& other) noexcept;
    process_lock& operator=(process_lock&& other) noexcept;
    ~process_lock();

private:
    explicit process_lock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

} // namespace syncd
