// The local side's two delicate operations: reading a file so that nothing torn is ever stored,
// and writing a local marker atomically.
#pragma once

#include "core/errc.hpp"
#include "local/walk.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct stat;

namespace syncd {

// st_mtim in nanoseconds since the epoch.
std::int64_t mtime_ns(const struct ::stat& st);

enum class read_outcome { ok, changed, vanished, unreadable };

struct file_contents {
    read_outcome outcome = read_outcome::ok;
    std::string data;
    std::string detail; // why, when not ok
};

// A file opened for reading once it is known to be the regular file the walk saw (same size and
// mtime): the start of read_stable, for readers that take a file in pieces (multipart uploads).
class stable_file {
public:
    // check_now: fstat at once, so that a file changed since the walk is refused before any of
    // it is read (multipart uploads). Without it the check waits for unchanged() — one fstat
    // fewer per file, for readers that read the whole file anyway (read_stable).
    stable_file(const std::filesystem::path& path, const file_entry& expected, bool follow, bool check_now = true);
    ~stable_file();
    stable_file(const stable_file&) = delete;
    stable_file& operator=(const stable_file&) = delete;

    read_outcome outcome() const { return outcome_; }
    const std::string& detail() const { return detail_; }
    int fd() const { return fd_; } // for sending ranges of the file (sendfile); -1 when not open

    // Reads buf.size() bytes at offset. A read error makes the file unreadable, a short read
    // (the file shrank) makes it changed; either way false, with outcome() and detail() saying why.
    bool read_at(std::uint64_t offset, std::span<char> buf);
    // Whether the file still has the size and mtime the walk saw (fstat); else outcome() is changed.
    bool unchanged();

private:
    bool same_as_walk(); // fstat: a regular file with the walk's size and mtime

    int fd_ = -1;
    std::uint64_t size_;
    std::int64_t mtime_ns_;
    bool checked_at_open_ = false;
    read_outcome outcome_ = read_outcome::ok;
    std::string detail_;
};

// Reads the whole file, refusing anything that is not the regular file the walk saw and anything
// whose size or mtime moves while it is read: stat at the walk, fstat after reading (and after a
// failed read, so that a file replaced by something else reads as changed, not unreadable).
// Never follows a symlink unless follow is set, and never blocks on a FIFO swapped in.
file_contents read_stable(const std::filesystem::path& path, const file_entry& expected, bool follow);

// Writes data to dir/name via a temporary file (marker_temp_prefix) that is fsynced and renamed
// into place; nothing is left behind on failure. The error says which step failed, its code is
// the errno (system category).
result<void> write_file_atomic(const std::filesystem::path& dir, const std::string& name, std::string_view data);

// Reads a small file whole; empty optional when it does not exist or cannot be read.
std::optional<std::string> read_small_file(const std::filesystem::path& path);

} // namespace syncd
