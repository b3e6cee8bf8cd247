#include "engine/state.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace syncd;

TEST_CASE("marker cache round-trips through its JSON form")
{
    marker_cache c;
    c.markers["p/run1/syncd.txt"] = {"abc", "sha256:01"};
    c.markers["p/syncd.txt"] = {"def", "sha256:02"};
    c.suspect = {"p/run1/bad.bin"};
    const auto back = parse_marker_cache(serialize(c));
    CHECK(back.markers.size() == 2);
    CHECK(back.markers.at("p/run1/syncd.txt").etag == "abc");
    CHECK(back.markers.at("p/syncd.txt").digest == "sha256:02");
    CHECK(back.suspect == c.suspect);
}

TEST_CASE("an unreadable marker cache is empty, never an error")
{
    CHECK(parse_marker_cache("").markers.empty());
    CHECK(parse_marker_cache("{not json").markers.empty());
    CHECK(parse_marker_cache(R"({"version":2,"markers":{"k":{"etag":"e","digest":"d"}}})").markers.empty());
    const auto partial = parse_marker_cache(
        R"({"version":1,"markers":{"good":{"etag":"e","digest":"d"},"bad":{"etag":1}},"suspect":["s",2]})");
    CHECK(partial.markers.size() == 1);
    CHECK(partial.markers.count("good") == 1);
    CHECK(partial.suspect == std::set<std::string>{"s"});
}

TEST_CASE("state directory: SYNCD_STATE_DIR, XDG_STATE_HOME, HOME, then /var/lib/syncd")
{
    auto env_of = [](std::string state, std::string xdg, std::string home) {
        return [=](std::string_view name) -> std::optional<std::string> {
            if (name == "SYNCD_STATE_DIR" && !state.empty()) return state;
            if (name == "XDG_STATE_HOME" && !xdg.empty()) return xdg;
            if (name == "HOME" && !home.empty()) return home;
            return std::nullopt;
        };
    };
    CHECK(default_state_dir(env_of("/s", "/x", "/h")) == "/s");
    CHECK(default_state_dir(env_of("", "/x", "/h")) == "/x/syncd");
    CHECK(default_state_dir(env_of("", "", "/h")) == "/h/.local/state/syncd");
    CHECK(default_state_dir(env_of("", "", "/")) == "/var/lib/syncd");
    CHECK(default_state_dir(env_of("", "", "")) == "/var/lib/syncd");
}
