// syncd's local state directory: the marker cache (and, later, the process lock).
//
// The marker cache remembers, per marker key, the ETag S3 gave the marker object and the digest
// written in it. It is only a cache: a cached digest is trusted only while the listing shows the
// marker object with the same ETag; otherwise the marker is read back (one GET) or rewritten.
// Losing the file costs one GET per marked directory on the next cycle, nothing more.
#pragma once

#include "core/config.hpp"

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

// One file per (endpoint, bucket, prefix, local_dir): "<hash>.markers.json".
std::filesystem::path marker_cache_path(const std::filesystem::path& state_dir, const config& cfg);

marker_cache load_marker_cache(const std::filesystem::path& file);
// Returns "" on success, else the reason.
std::string save_marker_cache(const std::filesystem::path& file, const marker_cache& cache);

} // namespace syncd
