// syncd's local state directory: per target, the marker cache and the process lock's file.
//
// The marker cache remembers, per marker key, the ETag S3 gave the marker object and the digest
// written in it. It is only a cache: a cached digest is trusted only while the listing shows the
// marker object with the same ETag; otherwise the marker is read back (one GET) or rewritten.
// Losing the file costs one GET per marked directory on the next cycle, nothing more.
#pragma once

#include "core/config.hpp"
#include "core/errc.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace syncd {

struct cached_marker {
    std::string etag;
    std::string digest;
};

// What syncd remembers between cycles. markers: marker key -> marker. suspect: keys where syncd's
// own upload stored bytes that failed the integrity check (server ETag != local MD5); such an
// object may have the right size and wrong bytes, so it is re-uploaded, never counted as verified.
struct marker_cache {
    std::unordered_map<std::string, cached_marker> markers;
    std::set<std::string> suspect;
};

std::string serialize(const marker_cache& cache);
marker_cache parse_marker_cache(std::string_view json); // empty on anything unreadable

// SYNCD_STATE_DIR, else $XDG_STATE_HOME/syncd, else $HOME/.local/state/syncd, else
// /var/lib/syncd.
std::filesystem::path default_state_dir(const env_lookup& env);

// A target's files in the state directory are named "<h>.<kind>", h being the first 16 hex
// digits of the SHA-256 of target.key(): equal targets share them, however local_dir is spelled.
std::filesystem::path marker_cache_path(const std::filesystem::path& state_dir, const target_id& target); // <h>.markers.json
std::filesystem::path lock_file_path(const std::filesystem::path& state_dir, const target_id& target);    // <h>.lock

marker_cache load_marker_cache(const std::filesystem::path& file);
// Writes the cache atomically, creating the state directory if needed.
result<void> write_marker_cache(const std::filesystem::path& file, const marker_cache& cache);

} // namespace syncd
