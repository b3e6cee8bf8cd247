#include "engine/list_ranges.hpp"
#include "local/walk.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace syncd;

namespace {

// Which ranges hold key: exactly one, for a sound cut.
std::size_t holders(const std::vector<key_range>& ranges, const std::string& key)
{
    return static_cast<std::size_t>(
        std::count_if(ranges.begin(), ranges.end(), [&](const key_range& r) { return r.contains(key); }));
}

} // namespace

TEST_CASE("key ranges: a range holds the keys after `after` up to and including `last`")
{
    const key_range r{"p/b", "p/d"};
    CHECK_FALSE(r.contains("p/a"));
    CHECK_FALSE(r.contains("p/b"));
    CHECK(r.contains("p/b0"));
    CHECK(r.contains("p/c"));
    CHECK(r.contains("p/d"));
    CHECK_FALSE(r.contains("p/d0"));
    CHECK(key_range{}.contains("anything"));
    CHECK(key_range{"", "m"}.contains("a"));
    CHECK(key_range{"m", ""}.contains("z"));
    // S3 orders keys by their UTF-8 bytes: 'é' (0xC3 0xA9) sorts after every ASCII character.
    CHECK(key_range{"p/z", ""}.contains("p/\xC3\xA9"));
    CHECK_FALSE(key_range{"", "p/z"}.contains("p/\xC3\xA9"));
}

TEST_CASE("key ranges: the cut gives n ranges in order that hold every key exactly once")
{
    std::vector<std::string> keys;
    for (int i = 999; i >= 0; --i) // out of order, as a walk's keys can be
        keys.push_back("p/d" + std::to_string(i % 100) + "/f" + std::to_string(i));
    keys.push_back("p/d7/f7"); // a duplicate
    const auto ranges = split_key_ranges(keys, 4);
    REQUIRE(ranges.size() == 4);
    CHECK(ranges.front().after.empty());
    CHECK(ranges.back().last.empty());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        CHECK(ranges[i].after == ranges[i - 1].last);
        CHECK(ranges[i - 1].last > ranges[i - 1].after);
    }
    std::vector<std::size_t> held(ranges.size());
    for (std::size_t k = 0; k < 1000; ++k) { // the distinct keys, without the duplicate
        CHECK(holders(ranges, keys[k]) == 1);
        for (std::size_t i = 0; i < ranges.size(); ++i)
            held[i] += ranges[i].contains(keys[k]);
    }
    for (auto h : held)
        CHECK(h == 250); // 1,000 distinct keys, a quarter each
    // Keys that are not among the cut's are held once too: before, between and after them.
    for (const std::string k : {"a", "p/", "p/d1/f1x", "p/d50", "p/d99/f999~", "q"})
        CHECK(holders(ranges, k) == 1);
}

TEST_CASE("key ranges: one range when there is nothing to cut")
{
    CHECK(split_key_ranges({"a", "b", "c"}, 1) == std::vector<key_range>{key_range{}});
    CHECK(split_key_ranges({"a", "b", "c"}, 0) == std::vector<key_range>{key_range{}});
    CHECK(split_key_ranges({}, 8) == std::vector<key_range>{key_range{}});
    CHECK(split_key_ranges({"a", "a", "a", "b"}, 4) == std::vector<key_range>{key_range{}}); // 2 distinct
    CHECK(split_key_ranges({"a", "b"}, 2) == std::vector<key_range>{{"", "a"}, {"a", ""}});
}

TEST_CASE("key ranges: a tree's listing is cut at its files' keys, prefix included")
{
    tree t;
    t.dirs.push_back(dir_node{});
    for (int d = 0; d < 20; ++d) {
        dir_node node;
        node.rel = "run" + std::to_string(d);
        node.parent = 0;
        for (int f = 0; f < 50; ++f)
            node.files.push_back({"f" + std::to_string(f), 1, 0});
        t.dirs[0].subdirs.push_back(static_cast<int>(t.dirs.size()));
        t.dirs.push_back(std::move(node));
    }
    const auto ranges = listing_ranges(t, "pre/", 5);
    REQUIRE(ranges.size() == 5);
    for (std::size_t i = 0; i + 1 < ranges.size(); ++i)
        CHECK(ranges[i].last.starts_with("pre/run"));
    std::vector<std::size_t> held(ranges.size());
    for (std::size_t d = 1; d < t.dirs.size(); ++d)
        for (const auto& f : t.dirs[d].files) {
            const auto key = "pre/" + t.dirs[d].rel + "/" + f.name;
            REQUIRE(holders(ranges, key) == 1);
            for (std::size_t i = 0; i < ranges.size(); ++i)
                held[i] += ranges[i].contains(key);
        }
    for (auto h : held) // sampled cut: within 10 % of 200 each
        CHECK((h >= 180 && h <= 220));
    CHECK(listing_ranges(t, "pre/", 1) == std::vector<key_range>{key_range{}});
}

TEST_CASE("key ranges: one range per 20,000 local files by default, at most the limit")
{
    CHECK(listing_range_count(0, files_per_range, 8) == 1);
    CHECK(listing_range_count(10'000, files_per_range, 8) == 1);
    CHECK(listing_range_count(39'999, files_per_range, 8) == 1);
    CHECK(listing_range_count(40'000, files_per_range, 8) == 2);
    CHECK(listing_range_count(200'000, files_per_range, 8) == 8);
    CHECK(listing_range_count(200'000, files_per_range, 3) == 3);
    CHECK(listing_range_count(200'000, files_per_range, 0) == 1);
    CHECK(listing_range_count(3'000, 500, 8) == 6);
    CHECK(listing_range_count(3'000, 0, 8) == 8);
}
