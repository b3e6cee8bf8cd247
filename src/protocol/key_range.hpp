// A range of keys in S3's order: what one ListObjectsV2 chain lists (s3::client::list_objects).
// How a prefix is cut into such ranges is the engine's decision (engine/list_ranges.hpp).
#pragma once

#include <string>
#include <string_view>

namespace syncd {

// The keys k with after < k <= last, in S3's order (by bytes, as std::string compares them). An
// empty `after` starts at the first key, an empty `last` runs to the end.
struct key_range {
    std::string after;
    std::string last;

    bool contains(std::string_view key) const
    {
        return (after.empty() || key > after) && (last.empty() || key <= last);
    }
    bool operator==(const key_range&) const = default;
};

} // namespace syncd
