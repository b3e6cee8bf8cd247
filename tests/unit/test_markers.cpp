#include "core/crypto.hpp"
#include "engine/markers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace syncd;

namespace {

// root: top.txt(3) + run1{ lane1{a(1), b(2)}, lane2{c(4)} } + empty
tree sample()
{
    tree t;
    t.dirs.push_back({"", -1, {{"top.txt", 3, 0}}, {1, 4}, {}});
    t.dirs.push_back({"run1", 0, {}, {2, 3}, {}});
    t.dirs.push_back({"run1/lane1", 1, {{"a", 1, 0}, {"b", 2, 0}}, {}, {}});
    t.dirs.push_back({"run1/lane2", 1, {{"c", 4, 0}}, {}, {}});
    t.dirs.push_back({"zempty", 0, {}, {}, {}});
    return t;
}

std::string sha(const std::string& s) { return "sha256:" + crypto::hex(crypto::sha256(s)); }

// The digest of format 2 over these entry lines: the header line first.
std::string digest_of(const std::string& lines) { return sha("syncd digest 2\n" + lines); }

} // namespace

TEST_CASE("markers: digest is SHA-256 over the header line and sorted, length-prefixed f/d lines")
{
    std::vector<file_entry> files = {{"z.txt", 5, 0}, {"a.txt", 0, 0}};
    std::vector<named_digest> dirs = {{"m", "sha256:00"}};
    CHECK(merkle_digest(files, dirs) == digest_of("f 5:a.txt 0\nd 1:m sha256:00\nf 5:z.txt 5\n"));
    CHECK(digest_header == "syncd digest 2\n");
    CHECK(merkle_digest({}, {}) == sha("syncd digest 2\n"));
    // The length is in bytes: "é" is two.
    CHECK(merkle_digest({{"\xc3\xa9 b", 7, 0}}, {}) == digest_of("f 4:\xc3\xa9 b 7\n"));
    CHECK(merkle_digest({{std::string(12, 'n'), 0, 0}}, {}) == digest_of("f 12:nnnnnnnnnnnn 0\n"));
}

TEST_CASE("markers: names with line breaks and spaces no longer make two trees collide")
{
    // Format 1 hashed "f x 1\nf y 2\n" for both: the files x (1 byte) and y (2 bytes), and the one
    // file "x 1\nf y" of 2 bytes. A directory could change and keep its digest (and its marker).
    const std::vector<file_entry> two = {{"x", 1, 0}, {"y", 2, 0}};
    const std::vector<file_entry> one = {{"x 1\nf y", 2, 0}};
    CHECK(sha("f x 1\n" "f y 2\n") == sha("f x 1\nf y 2\n")); // the old collision, spelt out
    CHECK(merkle_digest(two, {}) != merkle_digest(one, {}));
    CHECK(merkle_digest(one, {}) == digest_of("f 7:x 1\nf y 2\n"));

    // A subdirectory line smuggled into a file name: a (0 bytes), m/ and z (3 bytes) against the one
    // file "a 0\nd m <digest>\nf z" of 3 bytes, equal in format 1.
    const std::string child = "sha256:" + std::string(64, '0');
    const std::vector<file_entry> files_az = {{"a", 0, 0}, {"z", 3, 0}};
    const std::vector<named_digest> dir_m = {{"m", child}};
    const std::vector<file_entry> forged = {{"a 0\nd m " + child + "\nf z", 3, 0}};
    CHECK(merkle_digest(files_az, dir_m) != merkle_digest(forged, {}));

    // A file and a directory of the same name and value never give the same line.
    CHECK(merkle_digest({{"n", 5, 0}}, {}) != merkle_digest({}, {{"n", "5"}}));
    // Nor does a name that ends in what looks like a size.
    CHECK(merkle_digest({{"a 1", 2, 0}}, {}) != merkle_digest({{"a", 12, 0}}, {}));
}

TEST_CASE("markers: summaries count own and subtree files and chain digests bottom-up")
{
    auto t = sample();
    auto s = summarize(t);
    REQUIRE(s.size() == 5);
    CHECK(s[2].files == 2);
    CHECK(s[2].bytes == 3);
    CHECK(s[2].digest == digest_of("f 1:a 1\nf 1:b 2\n"));
    CHECK(s[1].files == 0);
    CHECK(s[1].total_files == 3);
    CHECK(s[1].total_bytes == 7);
    CHECK(s[1].subdirectories == 2);
    CHECK(s[1].digest == digest_of("d 5:lane1 " + s[2].digest + "\nd 5:lane2 " + s[3].digest + "\n"));
    CHECK(s[0].total_files == 4);
    CHECK(s[0].total_bytes == 10);
    CHECK(s[0].digest ==
          digest_of("d 4:run1 " + s[1].digest + "\nf 7:top.txt 3\nd 6:zempty " + digest_of("") + "\n"));

    // A size change anywhere changes every ancestor's digest and no sibling's.
    auto t2 = sample();
    t2.dirs[3].files[0].size = 5;
    auto s2 = summarize(t2);
    CHECK(s2[3].digest != s[3].digest);
    CHECK(s2[1].digest != s[1].digest);
    CHECK(s2[0].digest != s[0].digest);
    CHECK(s2[2].digest == s[2].digest);
    CHECK(s2[4].digest == s[4].digest);
}

TEST_CASE("markers: JSON has the contract's fields and round-trips the digest")
{
    marker_fields m{"2026-11-23T20:15:04Z", "run042/lane3", {120, 503316480, 960, 4026531840ull, 0, "sha256:ab"}, "syncd 0.1.0"};
    auto text = marker_json(m);
    auto j = nlohmann::json::parse(text);
    CHECK(j["synced_at"] == "2026-11-23T20:15:04Z");
    CHECK(j["directory"] == "run042/lane3");
    CHECK(j["files"] == 120);
    CHECK(j["bytes"] == 503316480);
    CHECK(j["total_files"] == 960);
    CHECK(j["total_bytes"] == 4026531840ull);
    CHECK(j["subdirectories"] == 0);
    CHECK(j["format"] == 2);
    CHECK(j["digest"] == "sha256:ab");
    CHECK(j["tool"] == "syncd 0.1.0");
    CHECK(marker_digest(text) == std::optional<std::string>("sha256:ab"));
    CHECK(!marker_digest("not json"));
    CHECK(!marker_digest("{\"digest\": 3}"));
    CHECK(!marker_digest("{\"format\": 2, \"digest\": 3}"));
    CHECK(marker_digest("{\"format\": 2, \"digest\": \"sha256:cd\"}") == std::optional<std::string>("sha256:cd"));
    CHECK(marker_key("p/", "", "syncd.txt") == "p/syncd.txt");
    CHECK(marker_key("p/", "a/b", "syncd.txt") == "p/a/b/syncd.txt");
    CHECK(marker_key("", "a", "m") == "a/m");
}

TEST_CASE("markers: a directory is ready only when its files and subdirectories are done")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    CHECK(m.initially_ready() == std::vector<int>{4}); // the empty directory
    CHECK(m.dir_done(4, m.complete(4)) == -1);         // root still has work

    CHECK(m.file_done(2, true) == -1);
    CHECK(m.file_done(2, true) == 2);
    CHECK(m.complete(2));
    CHECK(m.dir_done(2, true) == -1); // run1 waits for lane2
    CHECK(!m.ready(1));
    CHECK(m.file_done(3, true) == 3);
    CHECK(m.dir_done(3, true) == 1);
    CHECK(m.complete(1));
    CHECK(m.dir_done(1, true) == -1); // root still has top.txt
    CHECK(m.file_done(0, true) == 0);
    CHECK(m.complete(0));
    CHECK(m.dir_done(0, true) == -1);
}

TEST_CASE("markers: one failure keeps the directory and every ancestor unmarked, siblings marked")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    m.dir_done(4, m.complete(4));
    m.file_done(2, true);
    CHECK(m.file_done(2, false) == 2);
    CHECK(!m.complete(2));
    m.dir_done(2, false);
    CHECK(m.file_done(3, true) == 3);
    CHECK(m.complete(3));
    CHECK(m.dir_done(3, true) == 1);
    CHECK(!m.complete(1));
    m.dir_done(1, false);
    CHECK(m.file_done(0, true) == 0);
    CHECK(!m.complete(0));
}

TEST_CASE("markers: a failed marker write keeps the parent incomplete")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    m.dir_done(4, true);
    m.file_done(2, true);
    m.file_done(2, true);
    CHECK(m.complete(2));
    m.dir_done(2, false); // complete, but its marker PUT failed
    m.file_done(3, true);
    CHECK(m.dir_done(3, true) == 1);
    CHECK(!m.complete(1));
}

TEST_CASE("markers: blocking problems and unsettled empty directories are not complete")
{
    auto t = sample();
    t.dirs[3].problems.push_back({"bad\xff", entry_issue::invalid_name, ""});
    t.dirs[2].problems.push_back({"link", entry_issue::symlink_skipped, ""});
    marker_tracker m(t, {true, true, true, true, false});
    CHECK(m.initially_ready() == std::vector<int>{4});
    CHECK(!m.complete(4)); // empty but not settled
    m.file_done(2, true);
    CHECK(m.file_done(2, true) == 2);
    CHECK(m.complete(2)); // a skipped symlink does not block
    CHECK(m.file_done(3, true) == 3);
    CHECK(!m.complete(3)); // invalid name blocks
}

TEST_CASE("markers: reporting more files than exist never unlocks a directory")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    CHECK(m.file_done(3, false) == 3);
    CHECK(m.file_done(3, true) == -1);
    CHECK(!m.complete(3));
}

TEST_CASE("markers: the JSON says format 2 just before the digest; a marker of another format is never current")
{
    marker_fields m{"2026-11-23T20:15:04Z", "", {0, 0, 0, 0, 0, "sha256:ab"}, "syncd 0.1.0"};
    const auto text = marker_json(m);
    CHECK(text.find("\"subdirectories\":0,\"format\":2,\"digest\":\"sha256:ab\",\"tool\"") != std::string::npos);
    // Format 1 (no "format" key): its digest was computed another way, so it is not returned and
    // the marker is rewritten, even where the digest happens to be equal.
    CHECK(!marker_digest(R"({"synced_at":"2026-11-23T20:15:04Z","directory":"","files":0,"bytes":0,)"
                         R"("total_files":0,"total_bytes":0,"subdirectories":0,"digest":"sha256:ab","tool":"syncd 0.1.0"})"));
    CHECK(!marker_digest(R"({"format":1,"digest":"sha256:ab"})"));
    CHECK(!marker_digest(R"({"format":3,"digest":"sha256:ab"})"));
    CHECK(!marker_digest(R"({"format":"2","digest":"sha256:ab"})"));
    CHECK(!marker_digest(R"({"format":2.5,"digest":"sha256:ab"})"));
}
