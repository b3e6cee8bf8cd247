#include "protocol/s3_url.hpp"

#include <doctest/doctest.h>

using namespace syncd::s3;

TEST_CASE("s3_url: endpoints parse with scheme, host and port")
{
    auto e = parse_endpoint("http://127.0.0.1:9000");
    REQUIRE(e);
    CHECK(!e->tls);
    CHECK(e->host == "127.0.0.1");
    CHECK(e->port == 9000);
    CHECK(e->host_header() == "127.0.0.1:9000");

    e = parse_endpoint("https://minio.example.com/");
    REQUIRE(e);
    CHECK(e->tls);
    CHECK(e->port == 443);
    CHECK(e->host_header() == "minio.example.com");

    e = parse_endpoint("http://[::1]:8080");
    REQUIRE(e);
    CHECK(e->host == "::1");
    CHECK(e->host_header() == "[::1]:8080");

    CHECK(!parse_endpoint("ftp://x"));
    CHECK(!parse_endpoint("http://"));
    CHECK(!parse_endpoint("http://host:0"));
    CHECK(!parse_endpoint("http://host:70000"));
    CHECK(!parse_endpoint("http://host:12ab"));
    CHECK(!parse_endpoint("http://host/path"));
    CHECK(!parse_endpoint("http://user@host"));
    CHECK(!parse_endpoint("http://::1:80"));
}

TEST_CASE("s3_url: every spelling of one endpoint is the same value, with one canonical URL")
{
    const auto plain = parse_endpoint("http://127.0.0.1:9000");
    REQUIRE(plain);
    CHECK(plain->url() == "http://127.0.0.1:9000");
    for (auto same : {"http://127.0.0.1:9000/", "http://127.0.0.1:09000"}) {
        CAPTURE(same);
        CHECK(parse_endpoint(same) == plain);
    }
    const auto named = parse_endpoint("https://S3.Example.NET:443/");
    REQUIRE(named);
    CHECK(named->host == "s3.example.net");
    CHECK(named->url() == "https://s3.example.net");
    CHECK(parse_endpoint("https://s3.example.net") == named);
    CHECK(parse_endpoint("http://s3.example.net") != named);
    CHECK(parse_endpoint("https://s3.example.net:8443") != named);
    CHECK(parse_endpoint("http://[::1]:80")->url() == "http://[::1]");
    CHECK(parse_endpoint("http://[::1]:8080")->url() == "http://[::1]:8080");
}

TEST_CASE("s3_url: AWS addressing is virtual-hosted, dotted buckets use path style")
{
    auto a = make_addressing(std::nullopt, "eu-west-1", "my-bucket", std::nullopt);
    CHECK(!a.path_style);
    CHECK(a.ep.tls);
    CHECK(a.ep.host == "my-bucket.s3.eu-west-1.amazonaws.com");
    CHECK(a.path_for("run1/a.txt") == "/run1/a.txt");
    CHECK(a.path_for("") == "/");

    a = make_addressing(std::nullopt, "us-east-1", "my.dotted.bucket", std::nullopt);
    CHECK(a.path_style);
    CHECK(a.ep.host == "s3.us-east-1.amazonaws.com");
    CHECK(a.path_for("k") == "/my.dotted.bucket/k");

    a = make_addressing(std::nullopt, "us-east-1", "plain", true);
    CHECK(a.path_style);
    CHECK(a.ep.host == "s3.us-east-1.amazonaws.com");
}

TEST_CASE("s3_url: custom endpoints default to path style")
{
    auto a = make_addressing(parse_endpoint("http://127.0.0.1:4569"), "us-east-1", "bkt", std::nullopt);
    CHECK(a.path_style);
    CHECK(a.ep.host == "127.0.0.1");
    CHECK(a.ep.port == 4569);
    CHECK(a.path_for("x/y") == "/bkt/x/y");
    CHECK(a.path_for("") == "/bkt");

    a = make_addressing(parse_endpoint("https://s3.example.net"), "us-east-1", "bkt", false);
    CHECK(!a.path_style);
    CHECK(a.ep.host == "bkt.s3.example.net");
}

TEST_CASE("s3_url: request targets encode keys once and keep slashes")
{
    CHECK(request_target("/bkt/a b+c%d~e#f?g'h(i)j*k", {}) ==
          "/bkt/a%20b%2Bc%25d~e%23f%3Fg%27h%28i%29j%2Ak");
    CHECK(request_target("/bkt/dir/é/😀", {}) == "/bkt/dir/%C3%A9/%F0%9F%98%80");
    CHECK(request_target("/bkt//x/./y", {}) == "/bkt//x/./y");
    CHECK(request_target("/bkt", {{"list-type", "2"}, {"prefix", "a b/"}, {"continuation-token", "x+y="}}) ==
          "/bkt?list-type=2&prefix=a%20b%2F&continuation-token=x%2By%3D");
}
