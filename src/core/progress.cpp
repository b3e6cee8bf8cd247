#include "core/progress.hpp"

#include "core/log.hpp"

#include <cstdio>

namespace syncd {

std::string format_eta(std::chrono::seconds s)
{
    const long long t = s.count() < 0 ? 0 : s.count();
    char buf[48];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, t % 3600 / 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%llds", t);
    return buf;
}

std::string format_progress(const cycle_progress& p, std::chrono::steady_clock::duration elapsed)
{
    if (!p.planned)
        return "walking and listing";
    const double secs = std::chrono::duration<double>(elapsed).count();
    const double rate = secs > 0 ? static_cast<double>(p.bytes_done) / secs : 0;
    std::string out = std::to_string(p.files_done) + "/" + std::to_string(p.files_total) + " files, " +
                      log::human_bytes(p.bytes_done) + "/" + log::human_bytes(p.bytes_total) + ", " +
                      log::human_bytes(static_cast<std::uint64_t>(rate)) + "/s";
    if (p.files_done >= p.files_total)
        return out;
    if (rate > 0 && p.bytes_total > p.bytes_done) {
        const auto left = static_cast<double>(p.bytes_total - p.bytes_done) / rate;
        out += ", ETA " + format_eta(std::chrono::seconds{static_cast<long long>(left + 0.5)});
    } else {
        out += ", ETA unknown";
    }
    return out;
}

} // namespace syncd
