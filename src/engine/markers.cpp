#include "engine/markers.hpp"

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "engine/diff.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace syncd {

std::string merkle_digest(const std::vector<file_identity>& files, const std::vector<named_digest>& subdirs)
{
    // Each name is preceded by its length in bytes, so no byte a name may hold (a space, a line
    // break) can end it early: format 1 wrote "f <name> <size>\n", and a file "x 1\nf y" of 2 bytes
    // gave the same lines as the files "x" (1 byte) and "y" (2 bytes). What follows the name (size,
    // ETag; or a child's digest) holds no space or line break (digest_etag), so it reads one way.
    struct entry {
        std::string_view name;
        std::string line;
    };
    std::vector<entry> entries;
    entries.reserve(files.size() + subdirs.size());
    const auto line = [](char kind, std::string_view name, std::string_view value) {
        std::string out;
        out.reserve(name.size() + value.size() + 16);
        out += kind;
        out += ' ';
        out += std::to_string(name.size());
        out += ':';
        out += name;
        out += ' ';
        out += value;
        out += '\n';
        return out;
    };
    for (const auto& f : files) {
        auto value = std::to_string(f.size);
        value += ' ';
        value += f.etag;
        entries.push_back({f.name, line('f', f.name, value)});
    }
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

std::optional<std::string> digest_etag(std::string_view etag)
{
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        etag = etag.substr(1, etag.size() - 2);
    if (etag.empty())
        return std::nullopt;
    std::string out(etag);
    for (auto& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) // a space or line break would make the line ambiguous
            return std::nullopt;
        c = ascii_lower(c); // AWS lists lower case; hex compares in either
    }
    return out;
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
        for (int c : d.subdirs) {
            s.total_files += out[c].total_files;
            s.total_bytes += out[c].total_bytes;
        }
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
    j["digest"] = m.digest;
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

namespace {

constexpr auto no_etag = std::numeric_limits<std::uint32_t>::max();

void drop_etags(std::string& etags, std::vector<std::uint32_t>& at)
{
    std::string().swap(etags);
    std::vector<std::uint32_t>().swap(at);
}

} // namespace

marker_tracker::marker_tracker(const tree& t, std::vector<bool> empty_settled) : tree_(t), dirs_(t.dirs.size())
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
    for (int d : initially_ready())
        on_ready(d);
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

const std::string& marker_tracker::digest(int dir) const { return dirs_[dir].digest; }

int marker_tracker::file_done(int dir, int file, bool ok, std::optional<std::string_view> etag)
{
    auto& s = dirs_[dir];
    if (s.files_left == 0)
        return -1; // reported twice: a driver bug, but never let it unlock a marker
    --s.files_left;
    const auto& files = tree_.dirs[dir].files;
    // An ETag that could not stand in a digest line, or a file index out of range: driver bugs,
    // and never a reason to state a digest.
    if (ok && etag && (etag->empty() || etag->find('\n') != std::string_view::npos))
        ok = false;
    if (file < 0 || static_cast<std::size_t>(file) >= files.size())
        ok = false;
    s.ok = s.ok && ok;
    if (ok && !etag)
        s.known = false; // --dry-run: the upload that would give this ETag has not happened
    // Offsets are 32 bits: a directory would need some 100 million files to run past them; it then
    // gets no digest (and no marker) rather than a wrong one.
    if (s.ok && s.known && etag && s.etags.size() + etag->size() + 1 >= no_etag)
        s.known = false;
    if (s.ok && s.known && etag) {
        if (s.etag_at.empty())
            s.etag_at.assign(files.size(), no_etag);
        s.etag_at[file] = static_cast<std::uint32_t>(s.etags.size());
        s.etags += *etag;
        s.etags += '\n';
    } else {
        drop_etags(s.etags, s.etag_at); // no digest will be computed: keep nothing
    }
    if (!ready(dir))
        return -1;
    on_ready(dir);
    return dir;
}

int marker_tracker::dir_done(int dir, bool complete)
{
    auto& s = dirs_[dir];
    if (s.done)
        return -1;
    s.done = true;
    if (s.parent < 0)
        return -1;
    const bool known = s.known;
    auto& p = dirs_[s.parent];
    --p.subdirs_left;
    p.ok = p.ok && complete;
    p.known = p.known && known;
    if (!p.ok || !p.known)
        drop_etags(p.etags, p.etag_at);
    if (!ready(s.parent))
        return -1;
    on_ready(s.parent);
    return s.parent;
}

void marker_tracker::on_ready(int dir)
{
    auto& s = dirs_[dir];
    const auto& d = tree_.dirs[dir];
    if (s.ok && s.known) {
        // Every file was reported ok with an ETag and every child is complete, so each child has
        // its digest; the checks below only keep a driver bug from stating a digest it lacks.
        bool all = true;
        std::vector<file_identity> files;
        files.reserve(d.files.size());
        const std::string_view etags = s.etags;
        for (std::size_t i = 0; i < d.files.size() && all; ++i) {
            const auto at = i < s.etag_at.size() ? s.etag_at[i] : no_etag;
            if (at == no_etag) {
                all = false;
                break;
            }
            const auto end = etags.find('\n', at);
            files.push_back({d.files[i].name, d.files[i].size, etags.substr(at, end - at)});
        }
        std::vector<named_digest> children;
        children.reserve(d.subdirs.size());
        for (int c : d.subdirs) {
            if (dirs_[c].digest.empty()) {
                all = false;
                break;
            }
            children.push_back({tree_.dirs[c].name(), dirs_[c].digest});
        }
        if (all)
            s.digest = merkle_digest(files, children);
        else
            s.known = false;
    }
    // Consumed: the ETags and the children's digests are not needed again.
    drop_etags(s.etags, s.etag_at);
    for (int c : d.subdirs)
        std::string().swap(dirs_[c].digest);
}

} // namespace syncd
