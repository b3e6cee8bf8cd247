#include "core/log.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace syncd;

TEST_CASE("log: level names, one table for the file, the command line and the log lines")
{
    for (auto [text, level] : std::vector<std::pair<std::string, log_level>>{
             {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn}, {"error", log_level::error}}) {
        CAPTURE(text);
        CHECK(log::parse_level(text) == std::optional<log_level>(level));
        CHECK(log::name(level) == text);
    }
    for (auto bad : {"", "Debug", "INFO", "warning", "err", "info ", "trace"}) {
        CAPTURE(bad);
        CHECK(!log::parse_level(bad));
    }
    CHECK(log::level_choices() == "debug, info, warn or error");
}

TEST_CASE("log: format names")
{
    CHECK(log::parse_format("text") == std::optional<log_format>(log_format::text));
    CHECK(log::parse_format("json") == std::optional<log_format>(log_format::json));
    CHECK(log::name(log_format::text) == "text");
    CHECK(log::name(log_format::json) == "json");
    for (auto bad : {"", "JSON", "xml", "plain"}) {
        CAPTURE(bad);
        CHECK(!log::parse_format(bad));
    }
    CHECK(log::format_choices() == "text or json");
}
