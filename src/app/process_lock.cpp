#include "app/process_lock.hpp"

#include "engine/state.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace syncd {

result<process_lock> process_lock::acquire(const std::filesystem::path& state_dir, const target_id& target)
{
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    auto path = lock_file_path(state_dir, target);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return make_system_error(errno, "cannot open lock file " + path.string() + ": " + std::strerror(errno) +
                                            " (set SYNCD_STATE_DIR to a writable directory)");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char holder[32] = {};
        const auto n = ::pread(fd, holder, sizeof holder - 1, 0);
        ::close(fd);
        const std::string pid = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : std::string("?");
        if (err == EWOULDBLOCK)
            return make_error(errc::target_locked, "another syncd (pid " + pid.substr(0, pid.find('\n')) +
                                                        ") is already syncing " + target.describe() + " (lock " +
                                                        path.string() + "); refusing to run a second one");
        return make_system_error(err, "cannot lock " + path.string() + ": " + std::strerror(err));
    }
    const auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0)
        (void)!::pwrite(fd, pid.data(), pid.size(), 0);
    return process_lock(fd);
}

process_lock::process_lock(process_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

process_lock& process_lock::operator=(process_lock&& other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

process_lock::~process_lock()
{
    if (fd_ >= 0)
        ::close(fd_);
}

} // namespace syncd
