// How the listing of a prefix is cut into key ranges that are listed side by side. Pure.
//
// ListObjectsV2 pages follow each other through continuation tokens, so one listing is a chain of
// round trips. start-after lets a listing begin anywhere, so ranges cut at keys taken from the
// local tree (the objects a no-change cycle expects to find) can be listed at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/key_range.hpp"

namespace syncd {

struct tree;

// Cuts the keys into at most n ranges that together hold every key once, each holding about as
// many of `keys` (any order, duplicates allowed) as the others. One range, everything, when n <= 1
// or there are too few distinct keys to cut.
std::vector<key_range> split_key_ranges(std::vector<std::string> keys, std::size_t n);

// The ranges for listing `prefix` against the local tree: cut at a sample of its files' keys.
// Objects not in the tree are listed too (every key falls in some range); they only weigh
// nothing in the cut.
std::vector<key_range> listing_ranges(const tree& local, std::string_view prefix, std::size_t n);

// How many ranges a listing gets: one per `per_range` local files, at least one, at most
// max_ranges. By default a range is ~20 pages or more, so that the page each range fetches past
// its end costs little, and trees below 40,000 files keep the single chain servers that rescan
// the bucket for every page prefer.
constexpr std::size_t files_per_range = 20'000;
std::size_t listing_range_count(std::size_t files, std::size_t per_range, std::size_t max_ranges);

} // namespace syncd
