#include "core/units.hpp"

#include <cctype>
#include <cmath>
#include <limits>

namespace syncd {
namespace {

struct unit {
    std::string_view name;
    double nanos;
};

constexpr unit duration_units[] = {
    {"ns", 1},          {"us", 1e3},   {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3}, {"ms", 1e6},
    {"s", 1e9},         {"m", 60e9},   {"h", 3600e9},
};

} // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s)
{
    if (s == "0")
        return std::chrono::nanoseconds{0};
    if (s.empty())
        return std::nullopt;
    long double total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        // number: digits, optional '.', digits; at least one digit in all
        long double value = 0;
        bool digits = false;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            value = value * 10 + (s[i] - '0');
            digits = true;
            ++i;
        }
        if (i < s.size() && s[i] == '.') {
            ++i;
            long double scale = 0.1L;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
                value += (s[i] - '0') * scale;
                scale /= 10;
                digits = true;
                ++i;
            }
        }
        if (!digits)
            return std::nullopt;
        // unit: everything up to the next number, which must be one of the known units
        std::size_t end = i;
        while (end < s.size() && !std::isdigit(static_cast<unsigned char>(s[end])) && s[end] != '.')
            ++end;
        const auto name = s.substr(i, end - i);
        const unit* found = nullptr;
        for (const auto& u : duration_units)
            if (u.name == name)
                found = &u;
        if (!found)
            return std::nullopt;
        total += value * found->nanos;
        if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        i = end;
    }
    return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(static_cast<double>(total)))};
}

std::string format_duration(std::chrono::nanoseconds d)
{
    using namespace std::chrono;
    if (d.count() == 0)
        return "0s";
    if (d < seconds(1)) {
        if (d.count() % 1'000'000 == 0)
            return std::to_string(d.count() / 1'000'000) + "ms";
        return std::to_string(d.count()) + "ns";
    }
    std::string out;
    const auto h = duration_cast<hours>(d);
    const auto m = duration_cast<minutes>(d - h);
    const auto rest = d - h - m;
    if (h.count())
        out += std::to_string(h.count()) + "h";
    if (m.count())
        out += std::to_string(m.count()) + "m";
    if (rest.count()) {
        if (rest.count() % 1'000'000'000 == 0)
            out += std::to_string(rest.count() / 1'000'000'000) + "s";
        else
            out += std::to_string(duration<double>(rest).count()) + "s";
    }
    return out;
}

std::optional<std::uint64_t> parse_size(std::string_view s)
{
    std::size_t i = 0;
    std::uint64_t value = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        const auto digit = static_cast<std::uint64_t>(s[i] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
        ++i;
    }
    if (i == 0)
        return std::nullopt;
    while (i < s.size() && s[i] == ' ')
        ++i;
    std::string unit;
    for (; i < s.size(); ++i)
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    struct mult {
        std::string_view name;
        std::uint64_t factor;
    };
    static constexpr mult units[] = {
        {"", 1},          {"b", 1},
        {"kib", 1ull << 10}, {"mib", 1ull << 20}, {"gib", 1ull << 30}, {"tib", 1ull << 40},
        {"kb", 1000ull},  {"mb", 1000'000ull}, {"gb", 1000'000'000ull}, {"tb", 1000'000'000'000ull},
    };
    for (const auto& u : units) {
        if (u.name == unit) {
            if (value > std::numeric_limits<std::uint64_t>::max() / u.factor)
                return std::nullopt;
            return value * u.factor;
        }
    }
    return std::nullopt;
}

std::string format_size(std::uint64_t bytes)
{
    static constexpr const char* names[] = {"TiB", "GiB", "MiB", "KiB"};
    for (int i = 0; i < 4; ++i) {
        const std::uint64_t f = 1ull << (10 * (4 - i));
        if (bytes != 0 && bytes % f == 0)
            return std::to_string(bytes / f) + names[i];
    }
    return std::to_string(bytes) + "B";
}

} // namespace syncd
