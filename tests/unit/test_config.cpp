#include "core/config.hpp"
#include "core/units.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sys/stat.h>

using namespace syncd;
using namespace std::chrono_literals;

namespace {

env_lookup env_of(std::map<std::string, std::string> vars)
{
    return [vars](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

const std::string original =
    "# the original seven keys\n"
    "aws_access_key = AKIDEXAMPLE\n"
    "aws_secret_key = s3cr3t/Key+value=\n"
    "local_dir = /tmp\n"
    "bucket_name = my-bucket\n"
    "prefix = backups\n"
    "sync_interval = 5m\n"
    "sync_marker_file = done.json\n";

config_outcome parse(const std::string& text, std::map<std::string, std::string> env = {})
{
    return parse_config(text, "syncd.conf", env_of(std::move(env)));
}

std::string all_errors(const config_outcome& o)
{
    std::string out;
    for (const auto& e : o.errors)
        out += e.to_string() + "\n";
    return out;
}

} // namespace

TEST_CASE("config: the original seven keys work unchanged")
{
    auto o = parse(original);
    REQUIRE_MESSAGE(o.cfg, all_errors(o));
    const auto& c = *o.cfg;
    CHECK(c.aws_access_key == "AKIDEXAMPLE");
    CHECK(c.aws_secret_key == "s3cr3t/Key+value="); // '=' inside a value is kept
    CHECK(c.local_dir == "/tmp");
    CHECK(c.bucket_name == "my-bucket");
    CHECK(c.prefix == "backups/");
    CHECK(c.sync_interval == 5min);
    CHECK(c.sync_marker_file == "done.json");
    CHECK(c.region == "us-east-1");
    CHECK(c.concurrency == 64);
    CHECK(c.part_concurrency == 8);
    CHECK(c.list_concurrency == 8);
    CHECK(c.lines.at("bucket_name") == 5);
}

TEST_CASE("config: defaults")
{
    auto o = parse("local_dir=/tmp\nbucket_name=abc\n");
    REQUIRE(o.cfg);
    CHECK(o.cfg->sync_interval == 0s);
    CHECK(o.cfg->sync_marker_file == "syncd.txt");
    CHECK(o.cfg->prefix.empty());
    CHECK(o.cfg->multipart_threshold == (64u << 20));
    CHECK(o.cfg->part_size == (16u << 20));
    CHECK(o.cfg->markers == marker_location::s3);
    CHECK(!o.cfg->path_style);
}

TEST_CASE("config: prefix normalisation")
{
    for (auto [in, out] : std::vector<std::pair<std::string, std::string>>{
             {"/backups", "backups/"}, {"backups/", "backups/"}, {"backups", "backups/"}, {"///a/b/", "a/b/"}, {"", ""}}) {
        CAPTURE(in);
        auto o = parse("local_dir=/tmp\nbucket_name=abc\nprefix = " + in + "\n");
        REQUIRE(o.cfg);
        CHECK(o.cfg->prefix == out);
    }
    CHECK(!parse("local_dir=/tmp\nbucket_name=abc\nprefix=a//b\n").cfg);
}

TEST_CASE("config: every error names file, line and key, and all errors are collected")
{
    auto o = parse("local_dir = /tmp\n"
                   "bucket_nme = abc\n"          // 2: unknown, near miss
                   "sync_interval = 5 parsecs\n" // 3: bad duration
                   "just some words\n"           // 4: malformed
                   "local_dir = /var\n"          // 5: duplicate
                   "concurrency = 0\n");          // 6: out of range
    CHECK(!o.cfg);
    const auto text = all_errors(o);
    CHECK(text.find("syncd.conf:2: bucket_nme: unknown key; did you mean 'bucket_name'?") != std::string::npos);
    CHECK(text.find("syncd.conf:3: sync_interval:") != std::string::npos);
    CHECK(text.find("syncd.conf:4:") != std::string::npos);
    CHECK(text.find("syncd.conf:5: local_dir: set twice (first on line 1)") != std::string::npos);
    CHECK(text.find("syncd.conf:6: concurrency:") != std::string::npos);
    CHECK(text.find("bucket_name: required key is missing") != std::string::npos);
}

TEST_CASE("config: did-you-mean catches case and small typos, not unrelated words")
{
    CHECK(all_errors(parse("Local_Dir=/tmp\nbucket_name=abc\n")).find("did you mean 'local_dir'") != std::string::npos);
    CHECK(all_errors(parse("local_dir=/tmp\nbucket_name=abc\nsync_intervall=5s\n")).find("did you mean 'sync_interval'") !=
          std::string::npos);
    CHECK(all_errors(parse("local_dir=/tmp\nbucket_name=abc\ncompletely_unrelated=1\n")).find("did you mean") ==
          std::string::npos);
}

TEST_CASE("config: bucket names follow the S3 rules")
{
    for (std::string bad : std::vector<std::string>{"ab", "Abc", "a_b", "-abc", "abc-", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias",
                            std::string(64, 'a')}) {
        CAPTURE(bad);
        CHECK(!parse("local_dir=/tmp\nbucket_name=" + bad + "\n").cfg);
    }
    for (std::string good : std::vector<std::string>{"abc", "my.dotted.bucket", "a-b-c", "123", std::string(63, 'a')}) {
        CAPTURE(good);
        CHECK(parse("local_dir=/tmp\nbucket_name=" + good + "\n").cfg);
    }
}

TEST_CASE("config: values of every key are validated")
{
    const std::string base = "local_dir=/tmp\nbucket_name=abc\n";
    for (std::string bad : {"endpoint = ftp://x", "endpoint = http://h/path", "path_style = maybe", "concurrency = 5000",
                            "concurrency = x", "part_concurrency = 0", "part_concurrency = 4097", "part_concurrency = 2.5", "list_concurrency = 0", "list_concurrency = 65",
                            "settle_time = soon", "overwrite_changed = perhaps",
                            "marker_location = cloud", "multipart_threshold = 1MiB", "part_size = 6GiB",
                            "part_size = lots", "sse = rot13", "sse_kms_key_id = k", "log_format = xml",
                            "log_level = loud", "metrics_listen = nowhere", "sync_marker_file = a/b",
                            "sync_marker_file = ..", "follow_symlinks = 2", "exclude ="}) {
        CAPTURE(bad);
        auto o = parse(base + bad + "\n");
        CHECK(!o.cfg);
        REQUIRE(!o.errors.empty());
        CHECK(o.errors[0].line == 3);
    }
    auto o = parse(base + "endpoint = http://127.0.0.1:9000/\npath_style = false\nconcurrency = 8\npart_concurrency = 3\nlist_concurrency = 1\nsettle_time = 1h30m\n"
                          "overwrite_changed = yes\nmarker_location = both\nexclude = *.tmp\nexclude = cache\n"
                          "follow_symlinks = true\nmultipart_threshold = 8MiB\npart_size = 5MiB\nsse = aws:kms\n"
                          "sse_kms_key_id = k1\nstorage_class = STANDARD_IA\nlog_format = json\nlog_level = debug\n"
                          "metrics_listen = 127.0.0.1:9108\nregion = eu-west-1\nca_bundle = /etc/ca.pem\n");
    REQUIRE_MESSAGE(o.cfg, all_errors(o));
    const auto& c = *o.cfg;
    REQUIRE(c.endpoint);
    CHECK(c.endpoint->url() == "http://127.0.0.1:9000");
    CHECK(c.path_style == std::optional<bool>(false));
    CHECK(c.concurrency == 8);
    CHECK(c.part_concurrency == 3);
    CHECK(c.list_concurrency == 1);
    CHECK(c.settle_time == 90min);
    CHECK(c.overwrite_changed);
    CHECK(c.markers == marker_location::both);
    CHECK(c.exclude == std::vector<std::string>{"*.tmp", "cache"});
    CHECK(c.follow_symlinks);
    CHECK(c.multipart_threshold == (8u << 20));
    CHECK(c.part_size == (5u << 20));
    CHECK(c.log_fmt == std::optional<log_format>(log_format::json));
    CHECK(c.log_lvl == std::optional<log_level>(log_level::debug));
    REQUIRE(c.metrics_listen);
    CHECK(c.metrics_listen->host == "127.0.0.1");
    CHECK(c.metrics_listen->port == 9108);
    CHECK(c.region == "eu-west-1");
    CHECK(c.ca_bundle == "/etc/ca.pem");
}

TEST_CASE("config: secrets never appear in diagnostics or in describe()")
{
    auto o = parse(original + "aws_session_token = T0KEN-SECRET\naws_secret_key = again-SECRET\n");
    for (const auto& e : o.errors)
        CHECK(e.to_string().find("SECRET") == std::string::npos);
    auto ok = parse(original + "aws_session_token = T0KEN-SECRET\n");
    REQUIRE(ok.cfg);
    const auto d = describe(*ok.cfg);
    CHECK(d.find("s3cr3t") == std::string::npos);
    CHECK(d.find("T0KEN") == std::string::npos);
    CHECK(d.find("aws_secret_key = <redacted>") != std::string::npos);
    CHECK(d.find("aws_access_key = AKIDEXAMPLE") != std::string::npos);
    CHECK(d.find("credentials_from = config file") != std::string::npos);
    CHECK(d.find("prefix = backups/") != std::string::npos);
    CHECK(d.find("sync_interval = 5m") != std::string::npos);
}

TEST_CASE("config: the environment fills in what the file leaves out")
{
    const std::string base = "local_dir=/tmp\nbucket_name=abc\n";
    auto o = parse(base, {{"AWS_REGION", "ap-south-1"}, {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1234"},
                          {"AWS_ENDPOINT_URL", "http://other:1"}, {"AWS_CA_BUNDLE", "/ca.pem"},
                          {"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                          {"AWS_SESSION_TOKEN", "ENVTOKEN"}});
    REQUIRE(o.cfg);
    CHECK(o.cfg->region == "ap-south-1");
    REQUIRE(o.cfg->endpoint);
    CHECK(o.cfg->endpoint->url() == "http://127.0.0.1:1234");
    CHECK(o.cfg->ca_bundle == "/ca.pem");
    CHECK(o.cfg->aws_access_key == "ENVKEY");
    CHECK(o.cfg->aws_secret_key == "ENVSECRET");
    CHECK(o.cfg->aws_session_token == "ENVTOKEN");
    CHECK(describe(*o.cfg).find("credentials_from = environment") != std::string::npos);

    auto file_wins = parse(original + "region = eu-north-1\n", {{"AWS_REGION", "x"}, {"AWS_ACCESS_KEY_ID", "ENVKEY"}});
    REQUIRE(file_wins.cfg);
    CHECK(file_wins.cfg->region == "eu-north-1");
    CHECK(file_wins.cfg->aws_access_key == "AKIDEXAMPLE");

    CHECK(parse(base, {{"AWS_DEFAULT_REGION", "sa-east-1"}}).cfg->region == "sa-east-1");
    auto bad = parse(base, {{"AWS_ENDPOINT_URL", "not-a-url"}});
    CHECK(!bad.cfg);
    CHECK(all_errors(bad).find("AWS_ENDPOINT_URL") != std::string::npos);
    CHECK(!parse(base + "aws_access_key = only-half\n").cfg);
}

TEST_CASE("config: load_config checks local_dir and warns about readable secrets")
{
    std::random_device rd;
    const auto dir = std::filesystem::temp_directory_path() / ("syncd-cfg-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "syncd.conf";
    auto write = [&](const std::string& text, mode_t mode) {
        std::ofstream(file) << text;
        ::chmod(file.c_str(), mode);
    };

    write("bucket_name = abc\nlocal_dir = " + (dir / "missing").string() + "\n", 0600);
    auto missing = load_config(file, env_of({}));
    CHECK(!missing.cfg);
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].line == 2);
    CHECK(missing.errors[0].key == "local_dir");
    CHECK(missing.errors[0].to_string().find(file.string() + ":2: local_dir:") == 0);

    write("bucket_name = abc\nlocal_dir = " + file.string() + "\n", 0600);
    CHECK(!load_config(file, env_of({})).cfg); // a file, not a directory

    write("bucket_name = abc\naws_access_key = k\naws_secret_key = s\nlocal_dir = " + dir.string() + "\n", 0644);
    auto readable = load_config(file, env_of({}));
    REQUIRE(readable.cfg);
    REQUIRE(readable.warnings.size() == 1);
    CHECK(readable.warnings[0].find("chmod 600") != std::string::npos);

    ::chmod(file.c_str(), 0600);
    CHECK(load_config(file, env_of({})).warnings.empty());

    CHECK(!load_config(dir / "nope.conf", env_of({})).cfg);
    std::filesystem::remove_all(dir);
}

TEST_CASE("config: log_level and log_format take the log's own names, with its messages")
{
    const std::string base = "local_dir=/tmp\nbucket_name=abc\n";
    CHECK(all_errors(parse(base + "log_level = loud\n")).find("syncd.conf:3: log_level: 'loud' is not debug, info, warn or error") !=
          std::string::npos);
    CHECK(all_errors(parse(base + "log_format = xml\n")).find("syncd.conf:3: log_format: 'xml' is not text or json") !=
          std::string::npos);
    CHECK(!parse(base + "log_level = INFO\n").cfg); // exact, as on the command line
    for (auto [text, level] : std::vector<std::pair<std::string, log_level>>{
             {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn}, {"error", log_level::error}}) {
        CAPTURE(text);
        auto o = parse(base + "log_level = " + text + "\n");
        REQUIRE(o.cfg);
        CHECK(o.cfg->log_lvl == std::optional<log_level>(level));
        CHECK(describe(*o.cfg).find("log_level = " + text + "\n") != std::string::npos);
    }
    auto json = parse(base + "log_format = json\n");
    REQUIRE(json.cfg);
    CHECK(describe(*json.cfg).find("log_format = json\n") != std::string::npos);
    CHECK(describe(*parse(base).cfg).find("log_format = text\nlog_level = info\n") != std::string::npos);
}

TEST_CASE("listen address: host and port, parsed once")
{
    struct good_case {
        std::string text, host;
        unsigned port;
        std::string shown;
    };
    for (const auto& g : std::vector<good_case>{{"127.0.0.1:9108", "127.0.0.1", 9108, "127.0.0.1:9108"},
                                                {"0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0"},
                                                {"localhost:9108", "localhost", 9108, "localhost:9108"},
                                                {"metrics-1.example.net:65535", "metrics-1.example.net", 65535,
                                                 "metrics-1.example.net:65535"},
                                                {"[::1]:9108", "::1", 9108, "[::1]:9108"},
                                                {"[::]:80", "::", 80, "[::]:80"},
                                                {"[fe80::1:2]:1", "fe80::1:2", 1, "[fe80::1:2]:1"},
                                                {":9108", "", 9108, ":9108"}}) {
        CAPTURE(g.text);
        auto a = parse_listen_address(g.text);
        REQUIRE_MESSAGE(a.has_value(), (a ? "" : a.error().message));
        CHECK(a->host == g.host);
        CHECK(a->port == g.port);
        CHECK(a->addresses.empty());
        CHECK(a->to_string() == g.shown);
    }
    struct bad_case {
        std::string text, says;
    };
    for (const auto& b : std::vector<bad_case>{{"nowhere", "is not host:port"},
                                               {"", "is not host:port"},
                                               {"localhost:", "port"},
                                               {"localhost:65536", "port"},
                                               {"localhost:99999999999", "port"},
                                               {"localhost:-1", "port"},
                                               {"localhost:+1", "port"},
                                               {"localhost:91o8", "port"},
                                               {"localhost:http", "port"},
                                               {"::1:9108", "brackets, like [::1]:9108"},
                                               {"[::1]9108", "is not host:port"},
                                               {"[::1]", "is not host:port"},
                                               {"[::1:9108", "is not host:port"},
                                               {"[]:9108", "not an IPv6 address"},
                                               {"[localhost]:9108", "not an IPv6 address"},
                                               {"[127.0.0.1]:9108", "not an IPv6 address"},
                                               {"local host:9108", "not a host name"},
                                               {"http://localhost:9108", "not a URL"},
                                               {"user@localhost:9108", "not a host name"}}) {
        CAPTURE(b.text);
        auto a = parse_listen_address(b.text);
        REQUIRE(!a);
        CHECK(a.error().message.find("'" + b.text + "'") == 0);
        CHECK(a.error().message.find(b.says) != std::string::npos);
    }
    CHECK(*parse_listen_address("localhost:9108") == *parse_listen_address("localhost:9108"));
    CHECK(!(*parse_listen_address("localhost:9108") == *parse_listen_address("localhost:9109")));
}

TEST_CASE("listen address: host names resolve, addresses stay as written, unknown names are errors")
{
    auto local = resolve_listen_host("localhost");
    REQUIRE_MESSAGE(local.has_value(), (local ? "" : local.error().message));
    REQUIRE(!local->empty());
    for (const auto& a : *local)
        CHECK((a.starts_with("127.") || a == "::1"));
    CHECK(std::set<std::string>(local->begin(), local->end()).size() == local->size()); // each once
    CHECK(*resolve_listen_host("127.0.0.1") == std::vector<std::string>{"127.0.0.1"});
    CHECK(*resolve_listen_host("::1") == std::vector<std::string>{"::1"});
    CHECK(*resolve_listen_host("") == std::vector<std::string>{"0.0.0.0"});
    auto unknown = resolve_listen_host("no-such-host.invalid");
    REQUIRE(!unknown);
    CHECK(unknown.error().code == make_error_code(errc::resolve_failed));
    CHECK(unknown.error().message.find("'no-such-host.invalid' does not resolve") == 0);
}

TEST_CASE("config: load_config resolves metrics_listen, and names file and line when it cannot")
{
    testing::temp_dir tmp;
    const auto file = tmp.path / "syncd.conf";
    auto load = [&](const std::string& listen) {
        std::ofstream(file, std::ios::trunc) << "bucket_name = abc\nlocal_dir = " << tmp.path.string()
                                             << "\n# metrics\nmetrics_listen = " << listen << "\n";
        return load_config(file, env_of({}));
    };
    auto named = load("localhost:9108");
    REQUIRE_MESSAGE(named.cfg, all_errors(named));
    REQUIRE(named.cfg->metrics_listen);
    CHECK(named.cfg->metrics_listen->host == "localhost");
    CHECK(!named.cfg->metrics_listen->addresses.empty());
    CHECK(describe(*named.cfg).find("metrics_listen = localhost:9108 (listens on ") != std::string::npos);

    auto numeric = load("127.0.0.1:0");
    REQUIRE(numeric.cfg);
    CHECK(numeric.cfg->metrics_listen->addresses == std::vector<std::string>{"127.0.0.1"});
    CHECK(describe(*numeric.cfg).find("metrics_listen = 127.0.0.1:0\n") != std::string::npos);

    auto unknown = load("no-such-host.invalid:9108");
    CHECK(!unknown.cfg);
    REQUIRE(unknown.errors.size() == 1);
    CHECK(unknown.errors[0].line == 4);
    CHECK(unknown.errors[0].to_string().find(file.string() + ":4: metrics_listen: 'no-such-host.invalid' does not resolve") ==
          0);
    CHECK(describe(*parse("local_dir=/tmp\nbucket_name=abc\n").cfg).find("metrics_listen = (off)\n") != std::string::npos);
}

TEST_CASE("config: target_id is one value however local_dir is spelled")
{
    testing::temp_dir tmp;
    const auto runs = tmp.path / "data" / "runs";
    std::filesystem::create_directories(runs);
    std::filesystem::create_directories(tmp.path / "data" / "other");
    std::filesystem::create_directory_symlink(runs, tmp.path / "link");
    std::filesystem::create_directory_symlink("data/runs", tmp.path / "relative-link");
    const auto file = tmp.path / "syncd.conf";
    auto target_of = [&](const std::string& local_dir, const std::string& more = "") {
        std::ofstream(file, std::ios::trunc) << "bucket_name = abc\nlocal_dir = " << local_dir << "\n" << more;
        auto o = load_config(file, env_of({}));
        REQUIRE_MESSAGE(o.cfg, all_errors(o));
        return o.cfg->target;
    };
    const auto base = target_of(runs.string());
    CHECK(base.local_dir == std::filesystem::canonical(runs));
    CHECK(base.local_dir.has_filename());
    CHECK(base.bucket == "abc");
    CHECK(base.prefix.empty());
    CHECK(!base.endpoint);
    for (const auto& same : {runs.string() + "/", runs.string() + "//", runs.string() + "/.", runs.string() + "/./",
                             (tmp.path / "data" / "." / "runs").string(), (tmp.path / "data" / "other" / ".." / "runs").string(),
                             (tmp.path / "link").string(), (tmp.path / "link").string() + "/",
                             (tmp.path / "relative-link").string(), (tmp.path / "." / "link" / ".").string()}) {
        CAPTURE(same);
        CHECK(target_of(same) == base);
    }
    CHECK(target_of(runs.string(), "prefix = p\n") == target_of(runs.string() + "/", "prefix = /p/\n"));
    CHECK(target_of(runs.string(), "endpoint = http://127.0.0.1:9000/\n") ==
          target_of((tmp.path / "link").string(), "endpoint = http://127.0.0.1:9000\n"));
    CHECK(target_of(runs.string(), "endpoint = http://LOCALHOST:80\n") ==
          target_of(runs.string(), "endpoint = http://localhost\n"));

    // Anything else is another target.
    CHECK(target_of((tmp.path / "data" / "other").string()) != base);
    CHECK(target_of(runs.string(), "prefix = p\n") != base);
    CHECK(target_of(runs.string(), "endpoint = http://127.0.0.1:9000\n") != base);
    CHECK(target_of(runs.string(), "endpoint = http://127.0.0.1:9000\n") !=
          target_of(runs.string(), "endpoint = https://127.0.0.1:9000\n"));
    auto other_bucket = base;
    other_bucket.bucket = "abd";
    CHECK(other_bucket != base);
    // Settings outside the target do not make another one.
    CHECK(target_of(runs.string(), "sync_interval = 5m\nconcurrency = 3\nregion = eu-west-1\n") == base);

    CHECK(base.describe() == base.local_dir.string() + " to s3://abc/");
    CHECK(target_of(runs.string(), "prefix = p\n").describe() == base.local_dir.string() + " to s3://abc/p/");
}

TEST_CASE("config: without the filesystem, the target's local_dir is normalised lexically")
{
    auto target = [](const std::string& dir) {
        auto o = parse("local_dir = " + dir + "\nbucket_name = abc\n");
        REQUIRE(o.cfg);
        CHECK(o.cfg->local_dir == dir); // what the user wrote, for messages and the walk
        return o.cfg->target.local_dir;
    };
    CHECK(target("/data/runs") == "/data/runs");
    CHECK(target("/data/runs/") == "/data/runs");
    CHECK(target("/data/./runs/.") == "/data/runs");
    CHECK(target("/data/x/../runs") == "/data/runs");
    CHECK(target("/") == "/");
    CHECK(canonical_dir("/no-such-dir-for-syncd/a/../b/") == "/no-such-dir-for-syncd/b");
    CHECK(canonical_dir("/") == "/");
}

TEST_CASE("duration: Go syntax")
{
    CHECK(parse_duration("0") == std::optional(0ns));
    CHECK(parse_duration("30s") == std::optional<std::chrono::nanoseconds>(30s));
    CHECK(parse_duration("5m") == std::optional<std::chrono::nanoseconds>(5min));
    CHECK(parse_duration("2h") == std::optional<std::chrono::nanoseconds>(2h));
    CHECK(parse_duration("1h30m") == std::optional<std::chrono::nanoseconds>(90min));
    CHECK(parse_duration("250ms") == std::optional<std::chrono::nanoseconds>(250ms));
    CHECK(parse_duration("1.5h") == std::optional<std::chrono::nanoseconds>(90min));
    CHECK(parse_duration(".5s") == std::optional<std::chrono::nanoseconds>(500ms));
    CHECK(parse_duration("1h0m0s") == std::optional<std::chrono::nanoseconds>(1h));
    CHECK(parse_duration("10us") == std::optional<std::chrono::nanoseconds>(10us));
    CHECK(parse_duration("7ns") == std::optional<std::chrono::nanoseconds>(7ns));
    for (auto bad : {"", "5", "-1s", "1x", "s", ".s", "5 parsecs", "1h 30m", "99999999999h"}) {
        CAPTURE(bad);
        CHECK(!parse_duration(bad));
    }
    CHECK(format_duration(0s) == "0s");
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(250ms) == "250ms");
    CHECK(format_duration(5min) == "5m");
}

TEST_CASE("size: binary and decimal units")
{
    CHECK(parse_size("512") == std::optional<std::uint64_t>(512));
    CHECK(parse_size("512B") == std::optional<std::uint64_t>(512));
    CHECK(parse_size("8MiB") == std::optional<std::uint64_t>(8u << 20));
    CHECK(parse_size("8 mib") == std::optional<std::uint64_t>(8u << 20));
    CHECK(parse_size("1GiB") == std::optional<std::uint64_t>(1u << 30));
    CHECK(parse_size("10KB") == std::optional<std::uint64_t>(10000));
    CHECK(parse_size("2TiB") == std::optional<std::uint64_t>(2ull << 40));
    for (auto bad : {"", "MiB", "1.5GiB", "-1", "8XB", "99999999999999999999"}) {
        CAPTURE(bad);
        CHECK(!parse_size(bad));
    }
    CHECK(format_size(16u << 20) == "16MiB");
    CHECK(format_size(1000) == "1000B");
}
