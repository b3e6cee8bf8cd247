#include "local/local_fs.hpp"
#include "local/walk.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <sys/stat.h>

using namespace syncd;
namespace fs = std::filesystem;

namespace {

struct temp_dir : syncd::testing::temp_dir {
    temp_dir() : syncd::testing::temp_dir("syncd-localfs-") {}
};

void write(const fs::path& p, const std::string& content) { std::ofstream(p, std::ios::trunc) << content; }

// The file as the walk sees it.
file_entry scanned(const fs::path& p)
{
    struct stat st{};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return {p.filename().string(), static_cast<std::uint64_t>(st.st_size), mtime_ns(st)};
}

} // namespace

TEST_CASE("read_stable: a file as the walk saw it is read whole")
{
    temp_dir d;
    write(d.path / "a", "hello");
    const auto got = read_stable(d.path / "a", scanned(d.path / "a"), false);
    CHECK(got.outcome == read_outcome::ok);
    CHECK(got.data == "hello");
}

TEST_CASE("read_stable: changes between the walk and the read are refused, not uploaded")
{
    temp_dir d;
    const auto p = d.path / "a";
    write(p, "hello");
    auto f = scanned(p);

    SUBCASE("grown")
    {
        write(p, "hello, world");
        const auto got = read_stable(p, f, false);
        CHECK(got.outcome == read_outcome::changed);
        CHECK(got.detail == "changed since it was scanned");
        CHECK(got.data.empty());
    }
    SUBCASE("same size, new mtime")
    {
        f.mtime_ns -= 1'000'000'000;
        const auto got = read_stable(p, f, false);
        CHECK(got.outcome == read_outcome::changed);
        CHECK(got.data.empty());
    }
    SUBCASE("shrunk")
    {
        write(p, "he");
        CHECK(read_stable(p, f, false).outcome == read_outcome::changed);
    }
    SUBCASE("replaced by a directory: changed, not unreadable")
    {
        fs::remove(p);
        fs::create_directory(p);
        const auto got = read_stable(p, f, false);
        CHECK(got.outcome == read_outcome::changed);
        CHECK(got.detail == "changed since it was scanned");
    }
    SUBCASE("replaced by a FIFO: changed, and the read does not block")
    {
        fs::remove(p);
        REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
        CHECK(read_stable(p, f, false).outcome == read_outcome::changed);
    }
    SUBCASE("replaced by a symlink, not followed")
    {
        write(d.path / "b", "hello");
        fs::remove(p);
        fs::create_symlink(d.path / "b", p);
        CHECK(read_stable(p, f, false).outcome == read_outcome::changed);
    }
    SUBCASE("gone")
    {
        fs::remove(p);
        const auto got = read_stable(p, f, false);
        CHECK(got.outcome == read_outcome::vanished);
        CHECK(got.detail == "vanished since it was scanned");
    }
}

TEST_CASE("stable_file: checked at open unless told to wait for unchanged()")
{
    temp_dir d;
    const auto p = d.path / "a";
    write(p, "hello");
    const auto f = scanned(p);
    write(p, "hello, world");

    stable_file now(p, f, false);
    CHECK(now.outcome() == read_outcome::changed); // refused before a byte is read

    stable_file later(p, f, false, false);
    CHECK(later.outcome() == read_outcome::ok);
    char buf[5];
    CHECK(later.read_at(0, buf));
    CHECK_FALSE(later.unchanged());
    CHECK(later.outcome() == read_outcome::changed);
}

TEST_CASE("write_file_atomic: the file appears whole under its name, replacing the old one")
{
    temp_dir d;
    REQUIRE(write_file_atomic(d.path, "syncd.txt", "one\n").has_value());
    REQUIRE(write_file_atomic(d.path, "syncd.txt", "two\n").has_value());
    CHECK(read_small_file(d.path / "syncd.txt") == std::optional<std::string>("two\n"));
    CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1); // no temporary left
}

TEST_CASE("write_file_atomic: a failure says which step failed and carries errno")
{
    temp_dir d;
    const auto missing = write_file_atomic(d.path / "nope", "syncd.txt", "x");
    REQUIRE(missing.has_error());
    CHECK(missing.error().code == boost::system::error_code(ENOENT, boost::system::system_category()));
    CHECK(missing.error().to_string().starts_with("cannot create " + (d.path / "nope").string() + "/"));

    fs::create_directory(d.path / "dir");
    const auto onto_dir = write_file_atomic(d.path, "dir", "x"); // rename(2) cannot replace a directory
    REQUIRE(onto_dir.has_error());
    CHECK(onto_dir.error().to_string().starts_with("cannot put " + (d.path / "dir").string() + " in place: "));
    CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1); // temporary removed
}
