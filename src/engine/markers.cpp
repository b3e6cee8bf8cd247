#include "engine/markers.hpp"

#include "core/crypto.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace syncd {

std::string merkle_digest(const std::vector<file_entry>& files, const std::vector<named_digest>& subdirs)
{
    struct entry {
        std::string_view name;
        std::string line;
    };
    std::vector<entry> entries;
    entries.reserve(files.size() + subdirs.size());
    for (const auto& f : files)
        entries.push_back({f.name, "f " + f.name + " " + std::to_string(f.size) + "\n"});
    for (const auto& d : subdirs)
        entries.push_back({d.name, "d " + d.name + " " + d.digest + "\n"});
    std::sort(entries.begin(), entries.end(),
              [](const entry& a, const entry& b) { return a.name < b.name; });
    crypto::sha256_hasher h;
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
    j["digest"] = m.summary.digest;
    j["tool"] = m.tool;
    return j.dump() + "\n";
}

std::optional<std::string> marker_digest(std::string_view json)
{
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    auto it = j.find("digest");
    if (it == j.end() || !it->is_string())
        return std::nullopt;
    return it->get<std::string>();
}

std::string marker_key(std::string_view prefix, std::string_view dir_rel, std::string_view marker_name)
{
    std::string key(prefix);
    if (!dir_rel.empty()) {
        key += dir_rel;
        key += '/';
    }
    key += marker_name;
    return key;
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
