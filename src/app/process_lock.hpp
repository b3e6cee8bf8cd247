// One syncd per (local_dir, endpoint, bucket, prefix): an flock(2) on a file in the state
// directory. The OS drops the lock when the process dies, so a crash never leaves it stale.
#pragma once

#include "core/config.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace syncd {

class process_lock {
public:
    // On failure, why is set to a message for the user and nullopt is returned.
    static std::optional<process_lock> acquire(const std::filesystem::path& state_dir, const config& cfg,
                                               std::string& why);
    process_lock(process_lock&& other) noexcept;
    process_lock& operator=(process_lock&& other) noexcept;
    ~process_lock();

    const std::filesystem::path& path() const { return path_; }

private:
    process_lock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::filesystem::path path_;
};

} // namespace syncd
