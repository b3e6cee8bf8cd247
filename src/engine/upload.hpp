// Uploading one file: a single PUT up to multipart_threshold, a multipart upload above it (parts
// read once each and sent in parallel, an interrupted upload of the same file resumed, any
// failure aborted). Either way the bytes held in memory come out of the shared byte budget.
// See docs/multipart.md.
#pragma once

#include "core/byte_budget.hpp"
#include "core/errc.hpp"
#include "core/stop_signal.hpp"
#include "local/local_fs.hpp"
#include "local/walk.hpp"
#include "protocol/s3_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace syncd {

struct upload_job {
    std::filesystem::path path;
    file_entry file;                       // as the walk saw it
    std::string key;
    bool follow_symlinks = false;
    std::uint64_t multipart_threshold = 0; // files larger than this go up in parts
    std::uint64_t part_size = 0;           // before growing to stay within 10,000 parts
    byte_budget* budget = nullptr;         // bytes in memory, shared by every transfer
    byte_budget* part_slots = nullptr;     // parts in flight, one unit each, shared by every file; a
                                           // file runs min(its limit, the file's parts) part workers
    std::uint64_t turn = 0;                // files with a lower turn get part slots first
    stop_signal* stop = nullptr;           // shutdown: start no more parts, abort at once
};

struct upload_outcome {
    read_outcome local = read_outcome::ok; // changed / vanished / unreadable: not uploaded, detail says why
    std::string detail;
    std::optional<error> failure;          // an S3 failure; errc::cancelled for a shutdown
    std::string etag;                      // of the stored object
    std::uint32_t parts = 0;               // 0 for a single PUT
    std::uint32_t parts_resumed = 0;       // found already uploaded by an interrupted upload

};

boost::asio::awaitable<upload_outcome> upload_file(s3::client& s3, upload_job job);

} // namespace syncd
