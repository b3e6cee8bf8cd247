// The local/remote comparison: what to upload, what is already verified, what conflicts. Pure.
#pragma once

#include "local/walk.hpp"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace syncd {

struct remote_object {
    std::uint64_t size = 0;
    std::string etag;
};

// Key (decoded, full, prefix included) -> object, from the listing of the prefix.
using remote_index = std::unordered_map<std::string, remote_object>;

enum class file_action {
    upload,      // no object at the key
    overwrite,   // object has another size and overwrite_changed=true, or is suspect
    verified,    // object exists with the same size
    conflict,    // object has another size; reported, directory stays unmarked
    settling,    // modified less than settle_time ago; wait
    invalid_key, // prefix + path longer than 1024 bytes
};

struct file_plan {
    int dir = 0;          // index into tree::dirs
    int file = 0;         // index into that dir's files
    std::string key;
    file_action action = file_action::upload;
    std::uint64_t remote_size = 0;
};

struct diff_options {
    std::string prefix;                 // normalised: "" or ends in '/'
    bool overwrite_changed = false;
    std::chrono::nanoseconds settle_time{0};
    std::int64_t now_ns = 0;            // wall clock, nanoseconds since the epoch
    const std::set<std::string>* suspect = nullptr; // keys to re-upload whatever their size
};

constexpr std::size_t max_key_bytes = 1024;

std::string object_key(std::string_view prefix, std::string_view dir_rel, std::string_view name);

std::vector<file_plan> diff(const tree& local, const remote_index& remote, const diff_options& opt);

} // namespace syncd
