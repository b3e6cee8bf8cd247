#include "local/local_fs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace syncd {

std::int64_t mtime_ns(const struct ::stat& st)
{
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

namespace {

struct fd_guard {
    int fd;
    ~fd_guard()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace

stable_file::stable_file(const std::filesystem::path& path, const file_entry& f, bool follow, bool check_now)
    : size_(f.size), mtime_ns_(f.mtime_ns)
{
    const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
    fd_ = ::open(path.c_str(), flags);
    if (fd_ < 0) {
        outcome_ = errno == ENOENT ? read_outcome::vanished
                   : errno == ELOOP ? read_outcome::changed
                                    : read_outcome::unreadable;
        detail_ = errno == ENOENT ? "vanished since it was scanned" : std::strerror(errno);
        return;
    }
    checked_at_open_ = check_now;
    if (check_now && !same_as_walk()) {
        outcome_ = read_outcome::changed;
        detail_ = "changed since it was scanned";
    }
}

bool stable_file::same_as_walk()
{
    struct stat st{};
    return ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == size_ &&
           mtime_ns(st) == mtime_ns_;
}

stable_file::~stable_file()
{
    if (fd_ >= 0)
        ::close(fd_);
}

bool stable_file::read_at(std::uint64_t offset, std::span<char> buf)
{
    std::size_t done = 0;
    while (done < buf.size()) {
        const auto n = ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            // A directory or FIFO swapped in since the walk fails to read: that is a change.
            outcome_ = same_as_walk() ? read_outcome::unreadable : read_outcome::changed;
            detail_ = outcome_ == read_outcome::changed ? "changed since it was scanned" : std::strerror(err);
            return false;
        }
        if (n == 0) {
            outcome_ = read_outcome::changed;
            detail_ = "changed while it was read";
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool stable_file::unchanged()
{
    if (!same_as_walk()) {
        outcome_ = read_outcome::changed;
        detail_ = checked_at_open_ ? "changed while it was read" : "changed since it was scanned";
        return false;
    }
    return true;
}

file_contents read_stable(const std::filesystem::path& path, const file_entry& f, bool follow)
{
    file_contents out;
    stable_file file(path, f, follow, false);
    if (file.outcome() == read_outcome::ok) {
        out.data.resize(f.size);
        if (file.read_at(0, out.data) && file.unchanged())
            return out;
    }
    out.outcome = file.outcome();
    out.detail = file.detail();
    out.data.clear();
    return out;
}

result<void> write_file_atomic(const std::filesystem::path& dir, const std::string& name, std::string_view data)
{
    const auto temp = dir / (marker_temp_prefix(name) + std::to_string(::getpid()));
    fd_guard fd{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)};
    if (fd.fd < 0) {
        const int err = errno;
        return make_system_error(err, "cannot create " + temp.string());
    }
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::write(fd.fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            ::unlink(temp.c_str());
            return make_system_error(err, "cannot write " + temp.string());
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.fd) != 0 || ::rename(temp.c_str(), (dir / name).c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return make_system_error(err, "cannot put " + (dir / name).string() + " in place");
    }
    return {};
}

std::optional<std::string> read_small_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace syncd
