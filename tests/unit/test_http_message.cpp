#include "protocol/http_message.hpp"

#include <doctest/doctest.h>

using namespace syncd::http;

namespace {

request req(std::string method, std::string target, header_list headers, std::string_view body)
{
    request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = body;
    return r;
}

} // namespace

TEST_CASE("http: a PUT's head has the request line, Host, the headers in order and the length")
{
    const auto r = req("PUT", "/bucket/a%20b.txt", {{"content-md5", "XrY7u+Ae7tCTyyK7j1rNww=="}, {"x-amz-date", "20261125T000000Z"}}, "hello");
    std::string head;
    REQUIRE(write_request_head(head, r, "127.0.0.1:9000"));
    CHECK(head == "PUT /bucket/a%20b.txt HTTP/1.1\r\n"
                  "Host: 127.0.0.1:9000\r\n"
                  "content-md5: XrY7u+Ae7tCTyyK7j1rNww==\r\n"
                  "x-amz-date: 20261125T000000Z\r\n"
                  "Content-Length: 5\r\n"
                  "\r\n");
}

TEST_CASE("http: Content-Length for any body and for an empty PUT or POST, not for a bodiless GET")
{
    std::string head;
    REQUIRE(write_request_head(head, req("GET", "/b?list-type=2", {}, {}), "h"));
    CHECK(head == "GET /b?list-type=2 HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(write_request_head(head, req("PUT", "/b/empty", {}, {}), "h"));
    CHECK(head == "PUT /b/empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(write_request_head(head, req("POST", "/b/k?uploads", {}, {}), "h"));
    CHECK(head.find("Content-Length: 0\r\n") != std::string::npos);
    REQUIRE(write_request_head(head, req("DELETE", "/b/k?uploadId=1", {}, {}), "h"));
    CHECK(head.find("Content-Length") == std::string::npos);
    const std::string big(123456, 'x');
    REQUIRE(write_request_head(head, req("POST", "/b/k?uploadId=1", {}, big), "h"));
    CHECK(head.find("Content-Length: 123456\r\n") != std::string::npos);
}

TEST_CASE("http: a body taken from a file is counted by its range, not by the in-memory body")
{
    auto r = req("PUT", "/b/k?partNumber=2&uploadId=1", {}, {});
    r.file = {7, 16u << 20, 5'000'000'000};
    CHECK(r.has_file_body());
    CHECK(r.body_size() == 5'000'000'000);
    std::string head;
    REQUIRE(write_request_head(head, r, "h"));
    CHECK(head == "PUT /b/k?partNumber=2&uploadId=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000000\r\n\r\n");
    r.file.fd = -1;
    CHECK(r.body_size() == 0);
}

TEST_CASE("http: a line break anywhere in the head is refused, not sent")
{
    std::string head;
    CHECK_FALSE(write_request_head(head, req("PUT", "/b/k", {{"x-amz-meta-a", "1\r\nx-evil: 1"}}, "x"), "h"));
    CHECK_FALSE(write_request_head(head, req("PUT", "/b/k", {{"x-amz-meta-a", "1\nx"}}, "x"), "h"));
    CHECK_FALSE(write_request_head(head, req("PUT", "/b/k", {{"x-a\r\nb", "1"}}, "x"), "h"));
    CHECK_FALSE(write_request_head(head, req("PUT", "/b/k HTTP/1.1\r\nX: y", {}, "x"), "h"));
    CHECK_FALSE(write_request_head(head, req("PUT", "/b/k", {}, "x"), "h\r\nX: y"));
    CHECK_FALSE(write_request_head(head, req("GET\r\n", "/b", {}, {}), "h"));
    // A target with a space, an empty name or one with ':' would not parse as intended either.
    CHECK_FALSE(write_request_head(head, req("GET", "/b/a b", {}, {}), "h"));
    CHECK_FALSE(write_request_head(head, req("GET", "/b", {{"", "v"}}, {}), "h"));
    CHECK_FALSE(write_request_head(head, req("GET", "/b", {{"a:b", "v"}}, {}), "h"));
    // Line breaks are the only refusal for values: anything else on one line goes as it is.
    CHECK(write_request_head(head, req("GET", "/b", {{"x-amz-meta-a", "a:b c\té"}}, {}), "h"));
}

TEST_CASE("http: response headers are found whatever their case")
{
    response r;
    r.headers = {{"ETag", "\"abc\""}, {"x-amz-request-id", "R1"}};
    CHECK(r.header("etag") == "\"abc\"");
    CHECK(r.header("X-Amz-Request-Id") == "R1");
    CHECK(r.header("date").empty());
}
