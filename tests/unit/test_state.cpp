#include "engine/state.hpp"

#include "core/crypto.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

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

TEST_CASE("state files are named after the target: one name per target, unchanged across versions")
{
    target_id t{"/data/runs", s3::parse_endpoint("http://127.0.0.1:9000"), "bkt", "p/"};
    // The name hashes the same text as before targets were a type, so an upgrade keeps its
    // marker cache and, above all, its lock: an old and a new syncd still exclude each other.
    const auto h = crypto::hex(crypto::sha256("/data/runs\nhttp://127.0.0.1:9000\nbkt\np/")).substr(0, 16);
    CHECK(marker_cache_path("/s", t) == std::filesystem::path("/s/" + h + ".markers.json"));
    CHECK(lock_file_path("/s", t) == std::filesystem::path("/s/" + h + ".lock"));

    config cfg;
    cfg.target = t;
    CHECK(marker_cache_path("/s", cfg.target) == marker_cache_path("/s", t));

    auto same = t;
    same.endpoint = s3::parse_endpoint("http://127.0.0.1:9000/");
    CHECK(lock_file_path("/s", same) == lock_file_path("/s", t));

    auto aws = t;
    aws.endpoint.reset();
    const auto h_aws = crypto::hex(crypto::sha256("/data/runs\n\nbkt\np/")).substr(0, 16);
    CHECK(lock_file_path("/s", aws) == std::filesystem::path("/s/" + h_aws + ".lock"));

    for (auto change : std::vector<void (*)(target_id&)>{
             [](target_id& x) { x.local_dir = "/data/runs2"; }, [](target_id& x) { x.bucket = "bkt2"; },
             [](target_id& x) { x.prefix = "q/"; }, [](target_id& x) { x.endpoint->port = 9001; }}) {
        auto other = t;
        change(other);
        CHECK(lock_file_path("/s", other) != lock_file_path("/s", t));
        CHECK(marker_cache_path("/s", other) != marker_cache_path("/s", t));
    }
}

TEST_CASE("the marker cache is written atomically, or says why not")
{
    testing::temp_dir tmp;
    marker_cache c;
    c.markers["k"] = {"e", "d"};
    const auto file = tmp.path / "state" / "x.markers.json";
    auto written = write_marker_cache(file, c);
    REQUIRE(written.has_value());
    CHECK(load_marker_cache(file).markers.at("k").etag == "e");

    tmp.file("not-a-dir");
    auto refused = write_marker_cache(tmp.path / "not-a-dir" / "x.markers.json", c);
    REQUIRE(!refused);
    CHECK(refused.error().message.find("cannot create " + (tmp.path / "not-a-dir").string()) == 0);
    CHECK(refused.error().code.category() == boost::system::system_category());
}
