// Sync markers (docs/markers.md): the Merkle digest, the marker JSON, and the bottom-up completeness
// tracker. Pure: no I/O, no clock.
#pragma once

#include "local/walk.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncd {

struct dir_summary {
    std::uint64_t files = 0;          // D's own sync-set files
    std::uint64_t bytes = 0;
    std::uint64_t total_files = 0;    // the whole subtree
    std::uint64_t total_bytes = 0;
    std::uint64_t subdirectories = 0; // direct subdirectories
    std::string digest;               // "sha256:<64 hex>"
};

// The marker format: 2 since names are length-prefixed in the digest (docs/markers.md, "Format").
// Format 1 had no "format" key.
constexpr int marker_format = 2;
inline constexpr std::string_view digest_header = "syncd digest 2\n";

// Digest of one directory: SHA-256 over digest_header and then its entries sorted by name
// (bytewise), one line each, "f <n>:<name> <size>\n" for a file and "d <n>:<name> <child digest>\n"
// for a subdirectory, where <n> is the name's length in bytes (decimal) and the child digest is its
// full "sha256:<hex>" string.
struct named_digest {
    std::string name;
    std::string digest;
};
std::string merkle_digest(const std::vector<file_entry>& files, const std::vector<named_digest>& subdirs);

// Summaries for every directory of the tree, computed bottom-up; index = tree::dirs index.
std::vector<dir_summary> summarize(const tree& t);

struct marker_fields {
    std::string synced_at;  // "2026-11-23T20:15:04Z"
    std::string directory;  // relative path; "" for the root
    dir_summary summary;
    std::string tool;       // "syncd 0.1.0"
};
std::string marker_json(const marker_fields& m);

// The digest recorded in a marker document; nullopt when it is not a syncd marker of
// marker_format (an older marker is therefore rewritten).
std::optional<std::string> marker_digest(std::string_view json);

// Object key / relative file path of D's marker.
std::string marker_key(std::string_view prefix, std::string_view dir_rel, std::string_view marker_name);

// Tracks, directory by directory, whether everything beneath is resolved yet, so a directory can
// be marked the moment its own subtree is done.
//
// The driver reports every sync-set file exactly once with file_done(dir, ok), where ok means
// "verified in S3" (present with the same size, or uploaded this cycle with its integrity check).
// When a directory has nothing outstanding (all its files reported and all its subdirectories
// reported through dir_done), it becomes *ready*: the driver then asks complete(dir), writes the
// marker if it is complete and not current, and reports dir_done(dir, marked_ok). A directory
// counts as complete for its parent only when dir_done said so.
class marker_tracker {
public:
    // empty_settled[d]: for directories without sync-set files or subdirectories, whether they
    // are old enough (settle_time) to count as complete.
    marker_tracker(const tree& t, std::vector<bool> empty_settled);

    // Directories that are ready before anything is reported (no files, no subdirectories).
    std::vector<int> initially_ready() const;

    // Returns dir if this report made it ready, else -1.
    int file_done(int dir, bool ok);

    // Records dir's final outcome; returns its parent if that made the parent ready, else -1.
    int dir_done(int dir, bool complete);

    // Own files all verified, no blocking problems, every subdirectory complete, and (for an empty
    // directory) settled. Only meaningful once dir is ready.
    bool complete(int dir) const;
    bool ready(int dir) const;

private:
    struct state {
        int parent = -1;
        std::uint32_t files_left = 0;
        std::uint32_t subdirs_left = 0;
        bool ok = true;
        bool done = false;
    };
    std::vector<state> dirs_;
};

} // namespace syncd
