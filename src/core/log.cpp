#include "core/log.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <utility>

namespace syncd::log {
namespace {

struct state {
    log_format format = log_format::text;
    log_level level = log_level::info;
    bool status_shown = false; // a live status line sits on the terminal, without newline
    std::mutex mutex;
};

state& current()
{
    static state s;
    return s;
}

constexpr std::pair<std::string_view, log_level> level_names[] = {
    {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn}, {"error", log_level::error}};
constexpr std::pair<std::string_view, log_format> format_names[] = {{"text", log_format::text}, {"json", log_format::json}};

template <class Enum, std::size_t N>
std::optional<Enum> find_value(const std::pair<std::string_view, Enum> (&table)[N], std::string_view name)
{
    for (const auto& [n, v] : table)
        if (n == name)
            return v;
    return std::nullopt;
}

template <class Enum, std::size_t N>
std::string_view find_name(const std::pair<std::string_view, Enum> (&table)[N], Enum value)
{
    for (const auto& [n, v] : table)
        if (v == value)
            return n;
    return table[0].first; // unreachable: every enumerator is in its table
}

// "a, b or c"
template <class Enum, std::size_t N>
std::string choices(const std::pair<std::string_view, Enum> (&table)[N])
{
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0)
            out += i + 1 == N ? " or " : ", ";
        out += table[i].first;
    }
    return out;
}

std::string timestamp()
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t t = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
    return buf;
}

} // namespace

std::optional<log_level> parse_level(std::string_view n) { return find_value(level_names, n); }
std::optional<log_format> parse_format(std::string_view n) { return find_value(format_names, n); }
std::string_view name(log_level level) { return find_name(level_names, level); }
std::string_view name(log_format format) { return find_name(format_names, format); }
std::string level_choices() { return choices(level_names); }
std::string format_choices() { return choices(format_names); }

void configure(log_format format, log_level level)
{
    auto& s = current();
    std::lock_guard lock(s.mutex);
    s.format = format;
    s.level = level;
}

bool enabled(log_level level)
{
    return static_cast<int>(level) >= static_cast<int>(current().level);
}

void write(log_level level, std::string_view event, std::string_view message, fields f)
{
    auto& s = current();
    if (!enabled(level))
        return;
    std::string line;
    if (s.format == log_format::json) {
        nlohmann::json j;
        j["ts"] = timestamp();
        j["level"] = std::string(name(level));
        j["event"] = event;
        j["msg"] = message;
        for (const auto& [key, v] : f)
            std::visit([&](const auto& x) { j[std::string(key)] = x; }, v);
        line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        line = timestamp() + " " + std::string(name(level)) + " " + std::string(message);
    }
    line += '\n';
    std::lock_guard lock(s.mutex);
    if (s.status_shown) {
        line.insert(0, "\r\033[K");
        s.status_shown = false; // redrawn on the next progress tick
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

void status(std::string_view text)
{
    auto& s = current();
    std::string line = "\r\033[K";
    line += text;
    std::lock_guard lock(s.mutex);
    if (text.empty() && !s.status_shown)
        return;
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    s.status_shown = !text.empty();
}

std::string quote(std::string_view s)
{
    bool plain = !s.empty();
    for (unsigned char c : s)
        if (c < 0x21 || c == '\'' || c == '"' || c == '\\' || c == 0x7f)
            plain = false;
    if (plain)
        return std::string(s);
    std::string out = "'";
    for (unsigned char c : s) {
        if (c == '\'')
            out += "'\\''";
        else if (c < 0x20 || c == 0x7f)
        {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\x%02x", c);
            out += esc;
        }
        else
            out += static_cast<char>(c);
    }
    out += "'";
    return out;
}

std::string human_bytes(std::uint64_t n)
{
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

} // namespace syncd::log
