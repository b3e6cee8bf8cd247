// One line per event, as text or as JSON ({"ts":..,"level":..,"event":..,"msg":..,fields...}).
#pragma once

#include "core/config.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace syncd::log {

using value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;
using field = std::pair<std::string_view, value>;
using fields = std::initializer_list<field>;

// The names of levels and formats, one table for the configuration file, the command line and
// the log lines themselves: "debug", "info", "warn", "error"; "text", "json". Exact, lower case.
std::optional<log_level> parse_level(std::string_view name);
std::optional<log_format> parse_format(std::string_view name);
std::string_view name(log_level level);
std::string_view name(log_format format);
std::string level_choices();  // "debug, info, warn or error"
std::string format_choices(); // "text or json"

void configure(log_format format, log_level level);
bool enabled(log_level level);

// event: a short machine name ("upload", "conflict", "cycle_end"); message: the sentence a human
// reads. Text lines are "TIMESTAMP LEVEL message"; JSON lines carry every field.
void write(log_level level, std::string_view event, std::string_view message, fields f = {});

inline void debug(std::string_view ev, std::string_view msg, fields f = {}) { write(log_level::debug, ev, msg, f); }
inline void info(std::string_view ev, std::string_view msg, fields f = {}) { write(log_level::info, ev, msg, f); }
inline void warn(std::string_view ev, std::string_view msg, fields f = {}) { write(log_level::warn, ev, msg, f); }
inline void error(std::string_view ev, std::string_view msg, fields f = {}) { write(log_level::error, ev, msg, f); }

// Draws (or, with "", clears) a live status line on a terminal: carriage return, no newline.
// The next log line clears it first.
void status(std::string_view text);

// Shell-style quoting for names in messages, so spaces and odd bytes stay visible.
std::string quote(std::string_view s);

// "12.3 MiB", "512 B"
std::string human_bytes(std::uint64_t n);

} // namespace syncd::log
