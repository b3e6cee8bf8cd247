// Multipart uploads, the pure part: how a file is cut into parts, the ETag S3 gives the
// completed object, and whether an interrupted upload can be continued. No I/O.
#pragma once

#include "core/crypto.hpp"
#include "core/errc.hpp"
#include "protocol/s3_xml.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace syncd::multipart {

constexpr std::uint32_t max_parts = 10'000;
constexpr std::uint64_t max_object_size = 5ull << 40; // 5 TiB
constexpr std::uint64_t part_size_step = 1ull << 20;  // grown part sizes are whole MiB

struct part_plan {
    std::uint64_t file_size = 0;
    std::uint64_t part_size = 0;
    std::uint32_t count = 0;

    // Parts are numbered from 1, as S3 numbers them.
    std::uint64_t offset(std::uint32_t number) const { return (number - 1) * part_size; }
    std::uint64_t length(std::uint32_t number) const;
};

// Parts of part_size bytes (the last one shorter), part_size grown to whole MiB when the file
// would otherwise need more than 10,000 parts. A file beyond 5 TiB is refused (errc::too_large).
result<part_plan> plan_parts(std::uint64_t file_size, std::uint64_t part_size);

// The ETag S3 gives a completed multipart object: hex MD5 of the concatenated part MD5s, "-",
// the number of parts.
std::string multipart_etag(std::span<const crypto::md5_digest> part_md5s);

// What an interrupted upload already holds, checked against the plan for the file as it is now:
// the listed ETag for each part number (index 0 unused, "" = not uploaded yet), or nullopt when
// the listing cannot belong to this plan (a part number beyond it, a part of another size), so
// the upload must be aborted rather than continued. Matching ETags against the local bytes is
// left to the caller, which reads each part once anyway.
std::optional<std::vector<std::string>> uploaded_parts(const part_plan& plan,
                                                       std::span<const s3::part_info> listed);

} // namespace syncd::multipart
