#include "local/walk.hpp"

#include "core/uri.hpp"
#include "local/local_fs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <set>
#include <sys/stat.h>
#include <utility>

namespace syncd {
namespace {

std::string join(const std::string& rel, const std::string& name)
{
    return rel.empty() ? name : rel + "/" + name;
}

class walker {
public:
    walker(const std::filesystem::path& root, const walk_options& options)
        : root_(root), options_(options)
    {
    }

    tree run()
    {
        tree t;
        t.dirs.push_back(dir_node{});
        struct stat st{};
        if (::stat(root_.c_str(), &st) == 0) {
            t.dirs[0].mtime_ns = mtime_ns(st);
            visit(t, 0, {{st.st_dev, st.st_ino}});
        }
        else
            t.dirs[0].problems.push_back({".", entry_issue::unreadable, std::strerror(errno)});
        return t;
    }

private:
    using dir_id = std::pair<dev_t, ino_t>;

    // ancestors: the directories on the path from the root, for symlink-loop detection.
    void visit(tree& t, int index, std::set<dir_id> ancestors)
    {
        const std::string rel = t.dirs[index].rel;
        const auto full = rel.empty() ? root_ : root_ / rel;
        std::vector<std::string> names;
        // Entries are looked up relative to the open directory (fstatat), not by full path: one
        // path component for the kernel to resolve instead of all of them, and no path to build.
        dir_handle dir{::opendir(full.c_str())};
        if (!dir.d || !list(dir.d, names)) {
            t.dirs[index].problems.push_back({".", entry_issue::unreadable, std::strerror(errno)});
            return;
        }
        const int dfd = ::dirfd(dir.d);
        std::sort(names.begin(), names.end());

        struct subdir {
            std::string name;
            dir_id id;
            std::int64_t mtime;
        };
        std::vector<subdir> subdirs;
        const auto temp_prefix = marker_temp_prefix(options_.marker_name);
        for (const auto& name : names) {
            const auto rel_path = join(rel, name);
            auto problem = [&](entry_issue issue, std::string detail = {}) {
                t.dirs[index].problems.push_back({name, issue, std::move(detail)});
            };
            if (name == options_.marker_name || name.starts_with(temp_prefix))
                continue;
            if (matches_exclude(options_.exclude, rel_path, name)) {
                problem(entry_issue::excluded);
                continue;
            }
            struct stat st{};
            if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) // vanished since readdir: simply not there any more
                    problem(entry_issue::unreadable, std::strerror(errno));
                continue;
            }
            if (S_ISLNK(st.st_mode)) {
                if (!options_.follow_symlinks) {
                    problem(entry_issue::symlink_skipped);
                    continue;
                }
                if (::fstatat(dfd, name.c_str(), &st, 0) != 0) {
                    problem(entry_issue::dangling_symlink, std::strerror(errno));
                    continue;
                }
            }
            if (!uri::is_valid_utf8(name)) {
                problem(entry_issue::invalid_name, "name is not valid UTF-8");
                continue;
            }
            if (S_ISREG(st.st_mode)) {
                t.dirs[index].files.push_back(
                    {name, static_cast<std::uint64_t>(st.st_size), mtime_ns(st)});
            } else if (S_ISDIR(st.st_mode)) {
                dir_id id{st.st_dev, st.st_ino};
                if (ancestors.count(id)) {
                    problem(entry_issue::symlink_loop, "leads back to " + rel_path);
                    continue;
                }
                subdirs.push_back({name, id, mtime_ns(st)});
            } else {
                problem(entry_issue::special_skipped);
            }
        }
        dir.close(); // before descending: open directories stay bounded by the depth, not the width
        for (auto& sd : subdirs) {
            const int child = static_cast<int>(t.dirs.size());
            dir_node node;
            node.rel = join(rel, sd.name);
            node.parent = index;
            node.mtime_ns = sd.mtime;
            t.dirs.push_back(std::move(node));
            t.dirs[index].subdirs.push_back(child);
            auto below = ancestors;
            below.insert(sd.id);
            visit(t, child, std::move(below));
        }
    }

    struct dir_handle {
        DIR* d;
        void close()
        {
            if (d)
                ::closedir(d);
            d = nullptr;
        }
        ~dir_handle() { close(); }
    };

    static bool list(DIR* d, std::vector<std::string>& names)
    {
        errno = 0;
        while (auto* e = ::readdir(d)) {
            std::string_view n = e->d_name;
            if (n != "." && n != "..")
                names.emplace_back(n);
        }
        return errno == 0;
    }

    std::filesystem::path root_;
    const walk_options& options_;
};

} // namespace

bool blocks_marker(entry_issue issue)
{
    return issue == entry_issue::invalid_name || issue == entry_issue::unreadable;
}

std::string marker_temp_prefix(const std::string& marker_name)
{
    return "." + marker_name + ".tmp-";
}

std::string_view dir_node::name() const
{
    const std::string_view r = rel;
    const auto slash = r.rfind('/');
    return slash == std::string_view::npos ? r : r.substr(slash + 1);
}

std::string problem_path(const dir_node& dir, const entry_problem& p)
{
    if (p.name == ".")
        return dir.rel.empty() ? "." : dir.rel;
    return join(dir.rel, p.name);
}

std::size_t tree::file_count() const
{
    std::size_t n = 0;
    for (const auto& d : dirs)
        n += d.files.size();
    return n;
}

bool matches_exclude(const std::vector<std::string>& patterns, const std::string& rel_path,
                     const std::string& name)
{
    for (const auto& p : patterns) {
        if (::fnmatch(p.c_str(), rel_path.c_str(), 0) == 0)
            return true;
        if (p.find('/') == std::string::npos && ::fnmatch(p.c_str(), name.c_str(), 0) == 0)
            return true;
    }
    return false;
}

tree walk(const std::filesystem::path& root, const walk_options& options)
{
    return walker(root, options).run();
}

} // namespace syncd
