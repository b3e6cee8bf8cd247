// Durations ("1h30m", "250ms", "1.5h", "0") and sizes ("8MiB", "1GiB", "512") as they appear in
// the configuration file. Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syncd {

// Go time.ParseDuration syntax, non-negative only: a sequence of decimal numbers, each with an
// optional fraction and a unit (ns, us, µs, ms, s, m, h); a bare "0" is allowed.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s);
std::string format_duration(std::chrono::nanoseconds d); // "1h30m", "250ms", "0s", for display

// Integer bytes with an optional unit, optionally after spaces: B, KiB, MiB, GiB, TiB (powers of
// 1024) and KB, MB, GB, TB (powers of 1000); unit letters are case-insensitive ("8 mib").
std::optional<std::uint64_t> parse_size(std::string_view s);
std::string format_size(std::uint64_t bytes); // "16MiB" when exact, else bytes

} // namespace syncd
