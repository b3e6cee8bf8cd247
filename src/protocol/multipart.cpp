#include "protocol/multipart.hpp"

#include <algorithm>

namespace syncd::multipart {

std::uint64_t part_plan::length(std::uint32_t number) const
{
    if (number < count)
        return part_size;
    return file_size - offset(number);
}

result<part_plan> plan_parts(std::uint64_t file_size, std::uint64_t part_size)
{
    if (file_size > max_object_size)
        return make_error(errc::too_large, "the file has " + std::to_string(file_size) +
                                               " bytes; S3 stores at most 5 TiB in one object");
    part_plan plan;
    plan.file_size = file_size;
    plan.part_size = std::max<std::uint64_t>(part_size, 1);
    const auto needed = (file_size + max_parts - 1) / max_parts;
    if (plan.part_size < needed)
        plan.part_size = (needed + part_size_step - 1) / part_size_step * part_size_step;
    plan.count = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, (file_size + plan.part_size - 1) / plan.part_size));
    return plan;
}

std::string multipart_etag(std::span<const crypto::md5_digest> part_md5s)
{
    crypto::md5_hasher h;
    for (const auto& d : part_md5s)
        h.update(std::span<const std::uint8_t>(d));
    return crypto::hex(h.finish()) + "-" + std::to_string(part_md5s.size());
}

std::optional<std::vector<std::string>> uploaded_parts(const part_plan& plan,
                                                       std::span<const s3::part_info> listed)
{
    std::vector<std::string> etags(plan.count + 1);
    for (const auto& p : listed) {
        if (p.number < 1 || p.number > plan.count || p.size != plan.length(p.number) || p.etag.empty())
            return std::nullopt;
        etags[p.number] = p.etag;
    }
    return etags;
}

} // namespace syncd::multipart
