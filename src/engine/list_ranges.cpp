#include "engine/list_ranges.hpp"

#include "engine/diff.hpp"
#include "local/walk.hpp"

#include <algorithm>

namespace syncd {

std::vector<key_range> split_key_ranges(std::vector<std::string> keys, std::size_t n)
{
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::vector<key_range> ranges;
    std::string after;
    for (std::size_t i = 1; i < n && keys.size() >= n; ++i) {
        auto& cut = keys[i * keys.size() / n - 1];
        ranges.push_back({std::move(after), cut});
        after = std::move(cut);
    }
    ranges.push_back({std::move(after), ""});
    return ranges;
}

std::vector<key_range> listing_ranges(const tree& local, std::string_view prefix, std::size_t n)
{
    if (n <= 1)
        return {key_range{}};
    // About 64 sampled keys per range keep the ranges within a few percent of each other.
    const std::size_t files = local.file_count();
    const std::size_t every = std::max<std::size_t>(1, files / (n * 64));
    std::vector<std::string> sample;
    std::size_t seen = 0;
    for (const auto& dir : local.dirs)
        for (const auto& f : dir.files)
            if (seen++ % every == 0)
                sample.push_back(object_key(prefix, dir.rel, f.name));
    return split_key_ranges(std::move(sample), n);
}

std::size_t listing_range_count(std::size_t files, std::size_t per_range, std::size_t max_ranges)
{
    return std::clamp<std::size_t>(files / std::max<std::size_t>(1, per_range), 1,
                                   std::max<std::size_t>(1, max_ranges));
}

} // namespace syncd
