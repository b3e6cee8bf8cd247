// Walking local_dir into an in-memory tree of directories and regular files.
// The only I/O here is listing directories (opendir/readdir) and stat/fstatat; no file is opened.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace syncd {

struct file_entry {
    std::string name;          // bytes as on disk
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0; // nanoseconds since the epoch
};

enum class entry_issue {
    symlink_skipped,  // notice: follow_symlinks is off
    special_skipped,  // warning: FIFO, socket or device; never opened
    symlink_loop,     // warning: following it would loop
    dangling_symlink, // notice
    excluded,         // debug: matched an exclude pattern
    invalid_name,     // error: name is not UTF-8; blocks the directory's marker
    unreadable,       // error: stat/readdir failed; blocks the directory's marker
};

struct entry_problem {
    std::string name;   // the entry's name within its directory; "." for the directory itself
    entry_issue issue;
    std::string detail; // errno text and the like
};

bool blocks_marker(entry_issue issue);

// The temporary name a local marker is written under before it is renamed into place; such files
// are hidden like the marker itself.
std::string marker_temp_prefix(const std::string& marker_name);

struct dir_node {
    std::string rel;                 // "" for the root, else "a/b" (no trailing '/')
    int parent = -1;                 // index into tree::dirs, -1 for the root
    std::vector<file_entry> files;   // sorted by name
    std::vector<int> subdirs;        // indices into tree::dirs, sorted by name
    std::vector<entry_problem> problems;
    std::int64_t mtime_ns = 0;       // of the directory itself
    std::string_view name() const;   // last component of rel (a view into it)
};

struct tree {
    std::vector<dir_node> dirs;      // dirs[0] is the root; parents come before children
    std::size_t file_count() const;
};

// Where a problem of dir is, relative to the root: "a/b/x.txt", or "a/b" (the root: ".") when it
// is the directory itself.
std::string problem_path(const dir_node& dir, const entry_problem& p);

struct walk_options {
    std::string marker_name = "syncd.txt"; // hidden in every directory, with its temp files
    std::vector<std::string> exclude;      // globs, see matches_exclude
    bool follow_symlinks = false;
};

// Exclude patterns are fnmatch(3) globs matched against the relative path ('*' also matches '/')
// and, for a pattern without '/', against the entry's own name. A matching directory is pruned.
bool matches_exclude(const std::vector<std::string>& patterns, const std::string& rel_path,
                     const std::string& name);

// root must be a directory (checked by config loading). Never throws for filesystem errors:
// they become entry_problems.
tree walk(const std::filesystem::path& root, const walk_options& options);

} // namespace syncd
