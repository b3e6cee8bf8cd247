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

// What a marker counts. The digest is not here: it covers the ETags S3 confirmed, which are known
// only once a directory's files are resolved, so the tracker computes it (marker_tracker::digest).
struct dir_summary {
    std::uint64_t files = 0;          // D's own sync-set files
    std::uint64_t bytes = 0;
    std::uint64_t total_files = 0;    // the whole subtree
    std::uint64_t total_bytes = 0;
    std::uint64_t subdirectories = 0; // direct subdirectories
};

// The marker format: 2 since names are length-prefixed and files carry their ETag in the digest
// (docs/markers.md, "Format"). Format 1 had no "format" key.
constexpr int marker_format = 2;
inline constexpr std::string_view digest_header = "syncd digest 2\n";

// One file as the digest sees it: its name, its size and the ETag S3 confirmed for its object
// (digest_etag form).
struct file_identity {
    std::string_view name;
    std::uint64_t size = 0;
    std::string_view etag;
};
struct named_digest {
    std::string_view name;
    std::string_view digest; // the child's full "sha256:<hex>"
};

// Digest of one directory: SHA-256 over digest_header and then its entries sorted by name
// (bytewise), one line each, "f <n>:<name> <size> <etag>\n" for a file and
// "d <n>:<name> <child digest>\n" for a subdirectory, where <n> is the name's length in bytes
// (decimal). The one definition of the digest; docs/markers.md spells it out byte by byte.
std::string merkle_digest(const std::vector<file_identity>& files, const std::vector<named_digest>& subdirs);

// An ETag in the form the digest holds it: without surrounding quotes, ASCII letters lower-cased
// ("<32 hex>" or "<32 hex>-<N>" as AWS lists them). nullopt when it cannot stand in a digest line:
// empty, or holding a byte outside printable ASCII or a space (the line could then be read two
// ways). Such a file has no content identity to state, so its directory is not marked.
std::optional<std::string> digest_etag(std::string_view etag);

// Counts for every directory of the tree, computed bottom-up; index = tree::dirs index.
std::vector<dir_summary> summarize(const tree& t);

struct marker_fields {
    std::string synced_at;  // "2026-11-23T20:15:04Z"
    std::string directory;  // relative path; "" for the root
    dir_summary summary;
    std::string digest;     // "sha256:<64 hex>", marker_tracker::digest
    std::string tool;       // "syncd 0.1.0"
};
std::string marker_json(const marker_fields& m);

// The digest recorded in a marker document; nullopt when it is not a syncd marker of
// marker_format (an older marker is therefore rewritten).
std::optional<std::string> marker_digest(std::string_view json);

// Object key / relative file path of D's marker.
std::string marker_key(std::string_view prefix, std::string_view dir_rel, std::string_view marker_name);

// Tracks, directory by directory, whether everything beneath is resolved yet, so a directory can
// be marked the moment its own subtree is done, and computes its digest at that moment.
//
// The driver reports every sync-set file exactly once with file_done(dir, file, ok, etag), where ok
// means "verified in S3" (present with the same size, or uploaded this cycle with its integrity
// check) and etag is the ETag S3 confirmed for it (digest_etag form): the listing's for a file
// found present, the upload's answer for one uploaded. When a directory has nothing outstanding
// (all its files reported and all its subdirectories reported through dir_done), it becomes
// *ready*: if it is complete so far, its digest is computed then, from its files' ETags and its
// children's digests (children are ready, and decided, first). The driver then asks complete(dir)
// and digest(dir), writes the marker if it is complete and not current, and reports
// dir_done(dir, marked_ok). A directory counts as complete for its parent only when dir_done said
// so.
//
// Memory: ETags are held only for directories that are not ready yet, packed in one string per
// directory plus a 4-byte offset per file: 32 hex + 1 separator + 4 = 37 bytes per file for a
// plain MD5 ETag (a std::string per file would take 32 + a 48-byte heap block), freed when the
// directory's digest is computed. A child's digest (71 bytes) is freed when its parent's is.
class marker_tracker {
public:
    // t must outlive the tracker (names and sizes are read from it when a digest is computed).
    // empty_settled[d]: for directories without sync-set files or subdirectories, whether they
    // are old enough (settle_time) to count as complete.
    marker_tracker(const tree& t, std::vector<bool> empty_settled);

    // Directories that are ready before anything is reported (no files, no subdirectories).
    std::vector<int> initially_ready() const;

    // file: index into t.dirs[dir].files. etag: the ETag S3 confirmed (digest_etag form); ignored
    // unless ok. An ok file reported without one (--dry-run: it would be uploaded, so its ETag
    // cannot be known yet) leaves its directory's digest, and every ancestor's, unknown.
    // Returns dir if this report made it ready, else -1.
    int file_done(int dir, int file, bool ok, std::optional<std::string_view> etag);

    // Records dir's final outcome; returns its parent if that made the parent ready, else -1.
    int dir_done(int dir, bool complete);

    // Own files all verified, no blocking problems, every subdirectory complete, and (for an empty
    // directory) settled. Only meaningful once dir is ready.
    bool complete(int dir) const;
    bool ready(int dir) const;

    // "sha256:<hex>" of a ready, complete directory until its parent's digest is computed; empty
    // when it is not complete or an ETag beneath it is unknown (--dry-run).
    const std::string& digest(int dir) const;

private:
    struct state {
        int parent = -1;
        std::uint32_t files_left = 0;
        std::uint32_t subdirs_left = 0;
        bool ok = true;
        bool known = true;                  // every ETag beneath is known
        bool done = false;
        std::string etags;                  // the files' ETags, each followed by '\n', as reported
        std::vector<std::uint32_t> etag_at; // per file: where its ETag starts in etags
        std::string digest;
    };
    void on_ready(int dir);

    const tree& tree_;
    std::vector<state> dirs_;
};

} // namespace syncd
