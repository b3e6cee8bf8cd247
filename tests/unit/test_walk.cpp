#include "local/walk.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace syncd;
namespace fs = std::filesystem;

namespace {

struct temp_dir : syncd::testing::temp_dir {
    temp_dir() : syncd::testing::temp_dir("syncd-walk-") {}
};

const dir_node* dir(const tree& t, const std::string& rel)
{
    for (const auto& d : t.dirs)
        if (d.rel == rel)
            return &d;
    return nullptr;
}

bool has_problem(const dir_node& d, const std::string& name, entry_issue issue)
{
    for (const auto& p : d.problems)
        if (p.name == name && p.issue == issue)
            return true;
    return false;
}

} // namespace

TEST_CASE("walk: nested directories, sizes, sorted names, marker hidden")
{
    temp_dir td;
    td.file("b.txt", "hello");
    td.file("a.txt", "");
    td.file("syncd.txt", "{}");
    td.file("run1/lane1/x", "12345678");
    td.file("run1/syncd.txt", "{}");
    fs::create_directories(td.path / "empty");

    auto t = walk(td.path, {});
    REQUIRE(t.dirs.size() == 4);
    CHECK(t.dirs[0].rel == "");
    REQUIRE(t.dirs[0].files.size() == 2);
    CHECK(t.dirs[0].files[0].name == "a.txt");
    CHECK(t.dirs[0].files[0].size == 0);
    CHECK(t.dirs[0].files[1].size == 5);
    auto* lane = dir(t, "run1/lane1");
    REQUIRE(lane);
    CHECK(lane->files.size() == 1);
    CHECK(t.dirs[lane->parent].rel == "run1");
    CHECK(dir(t, "run1")->files.empty()); // only the marker was there
    CHECK(dir(t, "empty"));
    CHECK(t.file_count() == 3);
    for (std::size_t i = 1; i < t.dirs.size(); ++i)
        CHECK(t.dirs[i].parent < static_cast<int>(i));
}

TEST_CASE("walk: symlinks skipped unless followed, loops detected, FIFOs never opened")
{
    temp_dir td;
    td.file("real/data.txt", "abc");
    fs::create_symlink(td.path / "real/data.txt", td.path / "link.txt");
    fs::create_directory_symlink(td.path, td.path / "real/loop");
    REQUIRE(::mkfifo((td.path / "pipe").c_str(), 0600) == 0);

    auto t = walk(td.path, {});
    CHECK(has_problem(t.dirs[0], "link.txt", entry_issue::symlink_skipped));
    CHECK(has_problem(t.dirs[0], "pipe", entry_issue::special_skipped));
    CHECK(has_problem(*dir(t, "real"), "loop", entry_issue::symlink_skipped));
    CHECK(t.file_count() == 1);
    CHECK(!blocks_marker(entry_issue::symlink_skipped));
    CHECK(!blocks_marker(entry_issue::special_skipped));

    walk_options follow;
    follow.follow_symlinks = true;
    auto f = walk(td.path, follow);
    CHECK(f.file_count() == 2); // data.txt and link.txt
    CHECK(has_problem(*dir(f, "real"), "loop", entry_issue::symlink_loop));
}

TEST_CASE("walk: names that are not UTF-8 are errors that block the marker")
{
    temp_dir td;
    td.file("ok.txt");
    td.file(std::string("bad\xff.txt"));
    auto t = walk(td.path, {});
    CHECK(t.dirs[0].files.size() == 1);
    CHECK(has_problem(t.dirs[0], std::string("bad\xff.txt"), entry_issue::invalid_name));
    CHECK(blocks_marker(entry_issue::invalid_name));
}

TEST_CASE("walk: exclude patterns match paths and names, and prune directories")
{
    temp_dir td;
    td.file("keep.txt");
    td.file("x.tmp");
    td.file("deep/y.tmp");
    td.file("cache/big.bin");
    td.file("logs/2026/app.log");
    walk_options opt;
    opt.exclude = {"*.tmp", "cache", "logs/*/app.log"};
    auto t = walk(td.path, opt);
    CHECK(t.file_count() == 1);
    CHECK(!dir(t, "cache"));
    CHECK(has_problem(t.dirs[0], "x.tmp", entry_issue::excluded));
    CHECK(matches_exclude({"*.tmp"}, "a/b.tmp", "b.tmp"));
    CHECK(!matches_exclude({"a/*.tmp"}, "b/c.tmp", "c.tmp"));
}

TEST_CASE("walk: a directory that cannot be read is a problem of its own, reported at its path")
{
    temp_dir td;
    const auto t = walk(td.path / "missing", {});
    REQUIRE(t.dirs.size() == 1);
    REQUIRE(t.dirs[0].problems.size() == 1);
    CHECK(has_problem(t.dirs[0], ".", entry_issue::unreadable));
    CHECK(problem_path(t.dirs[0], t.dirs[0].problems[0]) == ".");

    dir_node nested;
    nested.rel = "a/b";
    CHECK(problem_path(nested, {".", entry_issue::unreadable, ""}) == "a/b"); // was "a/b/a/b"
    CHECK(problem_path(nested, {"x.txt", entry_issue::invalid_name, ""}) == "a/b/x.txt");
    CHECK(problem_path(t.dirs[0], {"x.txt", entry_issue::invalid_name, ""}) == "x.txt");

    if (::geteuid() == 0) // root reads any directory
        return;
    td.file("locked/x.txt");
    REQUIRE(::chmod((td.path / "locked").c_str(), 0) == 0);
    const auto locked = walk(td.path, {});
    ::chmod((td.path / "locked").c_str(), 0700);
    REQUIRE(dir(locked, "locked"));
    CHECK(has_problem(*dir(locked, "locked"), ".", entry_issue::unreadable));
    CHECK(blocks_marker(entry_issue::unreadable));
}
