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

// ETags for the examples: MD5 of "abc" and of "" (what S3 lists for those bodies).
constexpr std::string_view etag_abc = "900150983cd24fb0d6963f7d28e17f72";
constexpr std::string_view etag_empty = "d41d8cd98f00b204e9800998ecf8427e";

TEST_CASE("markers: digest is SHA-256 over the header line and sorted, length-prefixed f/d lines")
{
    std::vector<file_identity> files = {{"z.txt", 5, "e1"}, {"a.txt", 0, etag_empty}};
    std::vector<named_digest> dirs = {{"m", "sha256:00"}};
    CHECK(merkle_digest(files, dirs) ==
          digest_of("f 5:a.txt 0 d41d8cd98f00b204e9800998ecf8427e\nd 1:m sha256:00\nf 5:z.txt 5 e1\n"));
    CHECK(digest_header == "syncd digest 2\n");
    CHECK(merkle_digest({}, {}) == sha("syncd digest 2\n"));
    // The length is in bytes: "é" is two.
    CHECK(merkle_digest({{"\xc3\xa9 b", 7, "x"}}, {}) == digest_of("f 4:\xc3\xa9 b 7 x\n"));
    const std::string twelve(12, 'n');
    CHECK(merkle_digest({{twelve, 0, "y-2"}}, {}) == digest_of("f 12:nnnnnnnnnnnn 0 y-2\n"));
}

TEST_CASE("markers: the digest of a known example, byte for byte as docs/markers.md spells it")
{
    // The file "a b" holding "abc" (3 bytes, ETag = its MD5) and the empty directory "m". Computed
    // independently in Python:
    //   e = "sha256:" + sha256(b"syncd digest 2\n").hexdigest()
    //     = "sha256:2dad05dbbd1c5b52b981ab6bdc3b3f2e54db20fc4498897e17f19c0d449e92c2"
    //   sha256(b"syncd digest 2\nf 3:a b 3 900150983cd24fb0d6963f7d28e17f72\nd 1:m " + e + b"\n")
    const std::string empty = merkle_digest({}, {});
    CHECK(empty == "sha256:2dad05dbbd1c5b52b981ab6bdc3b3f2e54db20fc4498897e17f19c0d449e92c2");
    CHECK(merkle_digest({{"a b", 3, etag_abc}}, {{"m", empty}}) ==
          "sha256:f0c0db38bb90bd7d962f258137454bd37d4d9f726acbfe894ad87e3a258ea920");
}

TEST_CASE("markers: same names and sizes with other ETags give another digest")
{
    // What "equal digests" can now say: the same content as S3 confirmed it, not only the sizes.
    const std::vector<file_identity> one = {{"a", 3, etag_abc}, {"b", 0, etag_empty}};
    const std::vector<file_identity> other = {{"a", 3, "47bce5c74f589f4867dbd57e9ca9f808"}, {"b", 0, etag_empty}};
    CHECK(merkle_digest(one, {}) != merkle_digest(other, {}));
    // A multipart ETag of the same hex is another identity too.
    const std::vector<file_identity> parts = {{"a", 3, "900150983cd24fb0d6963f7d28e17f72-1"}, {"b", 0, etag_empty}};
    CHECK(merkle_digest(one, {}) != merkle_digest(parts, {}));
    // And a parent sees the difference through its child's digest.
    const auto d1 = merkle_digest(one, {});
    const auto d2 = merkle_digest(other, {});
    CHECK(merkle_digest({}, {{"run", d1}}) != merkle_digest({}, {{"run", d2}}));
}

TEST_CASE("markers: ETags go into the digest unquoted and lower-case; unusable ones are refused")
{
    CHECK(digest_etag("900150983CD24FB0D6963F7D28E17F72") == std::optional<std::string>(std::string(etag_abc)));
    CHECK(digest_etag("\"900150983cd24fb0d6963f7d28e17f72\"") == std::optional<std::string>(std::string(etag_abc)));
    CHECK(digest_etag("ABCDEF0123456789ABCDEF0123456789-12") ==
          std::optional<std::string>("abcdef0123456789abcdef0123456789-12"));
    CHECK(!digest_etag(""));
    CHECK(!digest_etag("\"\""));
    CHECK(!digest_etag("ab cd"));          // a space would make the line read two ways
    CHECK(!digest_etag("ab\ncd"));
    CHECK(!digest_etag("ab\tcd"));
    CHECK(!digest_etag("caf\xc3\xa9"));    // not ASCII
    CHECK(!digest_etag(std::string_view("a\0b", 3)));
}

TEST_CASE("markers: names with line breaks and spaces no longer make two trees collide")
{
    // Format 1 hashed "f x 1\nf y 2\n" for both: the files x (1 byte) and y (2 bytes), and the one
    // file "x 1\nf y" of 2 bytes. A directory could change and keep its digest (and its marker).
    const std::vector<file_identity> two = {{"x", 1, "e"}, {"y", 2, "e"}};
    const std::vector<file_identity> one = {{"x 1 e\nf 1:y", 2, "e"}};
    CHECK(sha("f x 1\n" "f y 2\n") == sha("f x 1\nf y 2\n")); // the old collision, spelt out
    CHECK(merkle_digest(two, {}) != merkle_digest(one, {}));
    CHECK(merkle_digest(one, {}) == digest_of("f 11:x 1 e\nf 1:y 2 e\n"));

    // A subdirectory line smuggled into a file name: a (0 bytes), m/ and z (3 bytes) against the one
    // file "a 0 e\nd 1:m <digest>\nf 1:z" of 3 bytes.
    const std::string child = "sha256:" + std::string(64, '0');
    const std::vector<file_identity> files_az = {{"a", 0, "e"}, {"z", 3, "e"}};
    const std::vector<named_digest> dir_m = {{"m", child}};
    const std::string forged_name = "a 0 e\nd 1:m " + child + "\nf 1:z";
    const std::vector<file_identity> forged = {{forged_name, 3, "e"}};
    CHECK(merkle_digest(files_az, dir_m) != merkle_digest(forged, {}));

    // A file and a directory of the same name and value never give the same line.
    CHECK(merkle_digest({{"n", 5, "e"}}, {}) != merkle_digest({}, {{"n", "5 e"}}));
    // Nor does a name that ends in what looks like a size.
    CHECK(merkle_digest({{"a 1", 2, "e"}}, {}) != merkle_digest({{"a", 12, "e"}}, {}));
}

TEST_CASE("markers: summaries count own and subtree files")
{
    auto t = sample();
    auto s = summarize(t);
    REQUIRE(s.size() == 5);
    CHECK(s[2].files == 2);
    CHECK(s[2].bytes == 3);
    CHECK(s[1].files == 0);
    CHECK(s[1].total_files == 3);
    CHECK(s[1].total_bytes == 7);
    CHECK(s[1].subdirectories == 2);
    CHECK(s[0].total_files == 4);
    CHECK(s[0].total_bytes == 10);
    CHECK(s[0].subdirectories == 2);
    CHECK(s[4].total_files == 0);
}

namespace {

// Drives a tracker over sample() bottom-up, every file verified with etag_of(dir, file); returns
// each directory's digest as digest() gave it just before dir_done (when the driver reads it).
std::vector<std::string> tracked_digests(const tree& t, std::string (*etag_of)(int, int))
{
    marker_tracker m(t, std::vector<bool>(t.dirs.size(), true));
    std::vector<std::string> out(t.dirs.size());
    std::vector<int> ready = m.initially_ready();
    for (int d = 0; d < static_cast<int>(t.dirs.size()); ++d)
        for (int f = 0; f < static_cast<int>(t.dirs[d].files.size()); ++f) {
            const auto etag = etag_of(d, f);
            if (int r = m.file_done(d, f, true, etag); r >= 0)
                ready.push_back(r);
        }
    while (!ready.empty()) {
        const int d = ready.back();
        ready.pop_back();
        REQUIRE(m.complete(d));
        out[d] = m.digest(d);
        if (int p = m.dir_done(d, true); p >= 0)
            ready.push_back(p);
    }
    return out;
}

std::string etag_a(int dir, int file) { return "e" + std::to_string(dir) + "x" + std::to_string(file); }
std::string etag_b(int dir, int file) { return dir == 3 ? "other" : etag_a(dir, file); }

} // namespace

TEST_CASE("markers: the tracker computes each digest when the directory is ready, bottom-up")
{
    auto t = sample();
    const auto s = tracked_digests(t, etag_a);
    CHECK(s[4] == digest_of(""));
    CHECK(s[2] == digest_of("f 1:a 1 e2x0\nf 1:b 2 e2x1\n"));
    CHECK(s[3] == digest_of("f 1:c 4 e3x0\n"));
    CHECK(s[1] == digest_of("d 5:lane1 " + s[2] + "\nd 5:lane2 " + s[3] + "\n"));
    CHECK(s[0] == digest_of("d 4:run1 " + s[1] + "\nf 7:top.txt 3 e0x0\nd 6:zempty " + s[4] + "\n"));

    // Other content under lane2 (same names and sizes) changes its digest and every ancestor's,
    // and no sibling's.
    const auto s2 = tracked_digests(t, etag_b);
    CHECK(s2[3] != s[3]);
    CHECK(s2[1] != s[1]);
    CHECK(s2[0] != s[0]);
    CHECK(s2[2] == s[2]);
    CHECK(s2[4] == s[4]);
    // A size change does too.
    auto t3 = sample();
    t3.dirs[3].files[0].size = 5;
    const auto s3 = tracked_digests(t3, etag_a);
    CHECK(s3[3] != s[3]);
    CHECK(s3[0] != s[0]);
    CHECK(s3[2] == s[2]);
}

TEST_CASE("markers: ETags may arrive in any order; a child's digest is freed once its parent's is computed")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    CHECK(m.digest(4) == digest_of(""));
    CHECK(m.file_done(2, 1, true, "eb") == -1); // b before a
    CHECK(m.file_done(2, 0, true, "ea") == 2);
    CHECK(m.digest(2) == digest_of("f 1:a 1 ea\nf 1:b 2 eb\n"));
    const auto lane1 = m.digest(2);
    CHECK(m.dir_done(2, true) == -1);
    CHECK(m.file_done(3, 0, true, "ec") == 3);
    const auto lane2 = m.digest(3);
    CHECK(m.dir_done(3, true) == 1);
    CHECK(m.digest(1) == digest_of("d 5:lane1 " + lane1 + "\nd 5:lane2 " + lane2 + "\n"));
    CHECK(m.digest(2).empty()); // consumed by run1's
    CHECK(m.digest(3).empty());
}

TEST_CASE("markers: a file counted verified without an ETag (--dry-run) leaves the digests unknown")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    m.dir_done(4, true);
    m.file_done(2, 0, true, "ea");
    CHECK(m.file_done(2, 1, true, std::nullopt) == 2);
    CHECK(m.complete(2)); // would be marked
    CHECK(m.digest(2).empty());
    m.dir_done(2, true);
    CHECK(m.file_done(3, 0, true, "ec") == 3);
    CHECK(m.digest(3) == digest_of("f 1:c 4 ec\n")); // its files are all in S3: known
    CHECK(m.dir_done(3, true) == 1);
    CHECK(m.complete(1));
    CHECK(m.digest(1).empty()); // lane1's is unknown, so run1's is
    m.dir_done(1, true);
    CHECK(m.file_done(0, 0, true, "et") == 0);
    CHECK(m.digest(0).empty());
}

TEST_CASE("markers: an ETag that cannot stand in a digest line never gives a digest")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    m.file_done(2, 0, true, "ea");
    CHECK(m.file_done(2, 1, true, "e\nf 1:z 0 x") == 2);
    CHECK(!m.complete(2));
    CHECK(m.digest(2).empty());
    CHECK(m.file_done(3, 0, true, "") == 3);
    CHECK(!m.complete(3));
}

TEST_CASE("markers: JSON has the contract's fields and round-trips the digest")
{
    marker_fields m{"2026-11-23T20:15:04Z", "run042/lane3", {120, 503316480, 960, 4026531840ull, 0}, "sha256:ab", "syncd 0.1.0"};
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

    CHECK(m.file_done(2, 0, true, "e") == -1);
    CHECK(m.file_done(2, 1, true, "e") == 2);
    CHECK(m.complete(2));
    CHECK(m.dir_done(2, true) == -1); // run1 waits for lane2
    CHECK(!m.ready(1));
    CHECK(m.file_done(3, 0, true, "e") == 3);
    CHECK(m.dir_done(3, true) == 1);
    CHECK(m.complete(1));
    CHECK(m.dir_done(1, true) == -1); // root still has top.txt
    CHECK(m.file_done(0, 0, true, "e") == 0);
    CHECK(m.complete(0));
    CHECK(m.dir_done(0, true) == -1);
}

TEST_CASE("markers: one failure keeps the directory and every ancestor unmarked, siblings marked")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    m.dir_done(4, m.complete(4));
    m.file_done(2, 0, true, "e");
    CHECK(m.file_done(2, 1, false, std::nullopt) == 2);
    CHECK(!m.complete(2));
    m.dir_done(2, false);
    CHECK(m.file_done(3, 0, true, "e") == 3);
    CHECK(m.complete(3));
    CHECK(m.dir_done(3, true) == 1);
    CHECK(!m.complete(1));
    m.dir_done(1, false);
    CHECK(m.file_done(0, 0, true, "e") == 0);
    CHECK(!m.complete(0));
}

TEST_CASE("markers: a failed marker write keeps the parent incomplete")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    m.dir_done(4, true);
    m.file_done(2, 0, true, "e");
    m.file_done(2, 1, true, "e");
    CHECK(m.complete(2));
    m.dir_done(2, false); // complete, but its marker PUT failed
    m.file_done(3, 0, true, "e");
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
    m.file_done(2, 0, true, "e");
    CHECK(m.file_done(2, 1, true, "e") == 2);
    CHECK(m.complete(2)); // a skipped symlink does not block
    CHECK(m.file_done(3, 0, true, "e") == 3);
    CHECK(!m.complete(3)); // invalid name blocks
    CHECK(m.digest(3).empty());
    CHECK(m.digest(4).empty());
}

TEST_CASE("markers: reporting more files than exist never unlocks a directory")
{
    auto t = sample();
    marker_tracker m(t, {true, true, true, true, true});
    CHECK(m.file_done(3, 0, false, std::nullopt) == 3);
    CHECK(m.file_done(3, 0, true, "e") == -1);
    CHECK(!m.complete(3));

    // One file reported twice in place of another: ready, but with an ETag missing, so no digest.
    marker_tracker n(t, {true, true, true, true, true});
    n.file_done(2, 0, true, "e");
    CHECK(n.file_done(2, 0, true, "e") == 2);
    CHECK(n.digest(2).empty());
}

TEST_CASE("markers: the JSON says format 2 just before the digest; a marker of another format is never current")
{
    marker_fields m{"2026-11-23T20:15:04Z", "", {0, 0, 0, 0, 0}, "sha256:ab", "syncd 0.1.0"};
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
