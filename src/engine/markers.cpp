#include "engine/markers.hpp"

#include "core/crypto.hpp"
#include "engine/diff.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace syncd {

std::string merkle_digest(const std::vector<file_entry>& files, const std::vector<named_digest>& subdirs)
{
    // Each name is preceded by its length in bytes, so no byte a name may hold (a space, a line
    // break) can end it early: format 1 wrote "f <name> <size>\n", and a file "x 1\nf y" of 2 bytes
    // gave the same lines as the files "x" (1 byte) and "y" (2 bytes).
    struct entry {
        std::string_view name;
        std::string line;
    };
    std::vector<entry> entries;
    entries.reserve(files.size() + subdirs.size());
    const auto line = [](char kind, std::string_view name, std::string_view value) {
        return std::string(1, kind) + " " + std::to_string(name.size()) + ":" + std::string(name) + " " +
               std::string(value) + "\n";
    };
    for (const auto& f : files)
        entries.push_back({f.name, line('f', f.name, std::to_string(f.size))});
    for (const auto& d : subdirs)
        entries.push_back({d.name, line('d', d.name, d.digest)});
    std::sort(entries.begin(), entries.end(),
              [](const entry& a, const entry& b) { return a.name < b.name; });
    crypto::sha256_hasher h;
    // The first line names the encoding, so that no digest of this format can equal one of format 1
    // (an empty directory's was SHA-256 of nothing): every format-1 marker is rewritten once.
    h.update(digest_header);
    for (const auto& e : entries)
        h.update(e.line);
    return "sha256:" + crypto::hex(h.finish());
}

std::vector<dir_summary> summarize(const tree& t)
{
    std::vector<dir_summary> out(t.dirs.size());
    // Children always come after their parent, so walking backwards visits children first.
    for (auto i = static_cast<int>(t.dirs.size()) - 1; i >= 0; --i) {
        const auto& d = t.dirs[i];
        auto& s = out[i];
        s.files = d.files.size();
        for (const auto& f : d.files)
            s.bytes += f.size;
        s.total_files = s.files;
        s.total_bytes = s.bytes;
        s.subdirectories = d.subdirs.size();
        std::vector<named_digest> children;
        children.reserve(d.subdirs.size());
        for (int c : d.subdirs) {
            s.total_files += out[c].total_files;
            s.total_bytes += out[c].total_bytes;
            children.push_back({t.dirs[c].name(), out[c].digest});
        }
        s.digest = merkle_digest(d.files, children);
    }
    return out;
}

std::string marker_json(const marker_fields& m)
{
    // Key order as in docs/markers.md "Format" (ordered_json keeps insertion order).
    nlohmann::ordered_json j;
    j["synced_at"] = m.synced_at;
    j["directory"] = m.directory;
    j["files"] = m.summary.files;
    j["bytes"] = m.summary.bytes;
    j["total_files"] = m.summary.total_files;
    j["total_bytes"] = m.summary.total_bytes;
    j["subdirectories"] = m.summary.subdirectories;
    j["format"] = marker_format; // how the digest is computed: readers compare digests of one format only
    j["digest"] = m.summary.digest;
    j["tool"] = m.tool;
    return j.dump() + "\n";
}

std::optional<std::string> marker_digest(std::string_view json)
{
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    // A marker of another format (format 1 had no "format" key) is never current: its digest
    // was computed differently, so it is rewritten.
    if (auto f = j.find("format"); f == j.end() || !f->is_number_integer() || f->get<std::int64_t>() != marker_format)
        return std::nullopt;
    auto it = j.find("digest");
    if (it == j.end() || !it->is_string())
        return std::nullopt;
    return it->get<std::string>();
}

std::string marker_key(std::string_view prefix, std::string_view dir_rel, std::string_view marker_name)
{
    return object_key(prefix, dir_rel, marker_name); // a marker is named like a file of D
}

marker_tracker::marker_tracker(const tree& t, std::vector<bool> empty_settled) : dirs_(t.dirs.size())
{
    for (std::size_t i = 0; i < t.dirs.size(); ++i) {
        const auto& d = t.dirs[i];
        auto& s = dirs_[i];
        s.parent = d.parent;
        s.files_left = static_cast<std::uint32_t>(d.files.size());
        s.subdirs_left = static_cast<std::uint32_t>(d.subdirs.size());
        s.ok = std::none_of(d.problems.begin(), d.problems.end(),
                            [](const entry_problem& p) { return blocks_marker(p.issue); });
        if (d.files.empty() && d.subdirs.empty() && i < empty_settled.size() && !empty_settled[i])
            s.ok = false;
    }
}

std::vector<int> marker_tracker::initially_ready() const
{
    std::vector<int> out;
    for (std::size_t i = 0; i < dirs_.size(); ++i)
        if (ready(static_cast<int>(i)))
            out.push_back(static_cast<int>(i));
    return out;
}

bool marker_tracker::ready(int dir) const
{
    const auto& s = dirs_[dir];
    return !s.done && s.files_left == 0 && s.subdirs_left == 0;
}

bool marker_tracker::complete(int dir) const { return dirs_[dir].ok; }

int marker_tracker::file_done(int dir, bool ok)
{
    auto& s = dirs_[dir];
    if (s.files_left == 0)
        return -1; // reported twice: a driver bug, but never let it unlock a marker
    --s.files_left;
    s.ok = s.ok && ok;
    return ready(dir) ? dir : -1;
}

int marker_tracker::dir_done(int dir, bool complete)
{
    auto& s = dirs_[dir];
    if (s.done)
        return -1;
    s.done = true;
    if (s.parent < 0)
        return -1;
    auto& p = dirs_[s.parent];
    --p.subdirs_left;
    p.ok = p.ok && complete;
    return ready(s.parent) ? s.parent : -1;
}

} // namespace syncd
