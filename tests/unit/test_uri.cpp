#include "core/uri.hpp"

#include <doctest/doctest.h>

using namespace syncd::uri;

TEST_CASE("uri: encoding keeps unreserved bytes and escapes the rest, upper-case")
{
    CHECK(encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(encode("a b") == "a%20b");
    CHECK(encode("a+b") == "a%2Bb");
    CHECK(encode("100%") == "100%25");
    CHECK(encode("#?") == "%23%3F");
    CHECK(encode("'()*") == "%27%28%29%2A");
    CHECK(encode("a/b") == "a%2Fb");
    CHECK(encode("a/b", true) == "a/b");
    CHECK(encode("é") == "%C3%A9");
    CHECK(encode("日本") == "%E6%97%A5%E6%9C%AC");
    CHECK(encode("😀") == "%F0%9F%98%80");
    CHECK(encode(std::string("\x00\xff", 2)) == "%00%FF");
}

TEST_CASE("uri: decoding round-trips and handles '+' as asked")
{
    for (std::string s : {"a b+c%d~e#f?g'h(i)j*k", "dir/é/日本/😀", "", "plain"})
        CHECK(decode(encode(s, true)) == std::optional<std::string>(s));
    CHECK(decode("a+b") == std::optional<std::string>("a+b"));
    CHECK(decode("a+b", true) == std::optional<std::string>("a b"));
    CHECK(decode("a%2Bb", true) == std::optional<std::string>("a+b"));
    CHECK(decode("%c3%a9") == std::optional<std::string>("é"));
    CHECK(!decode("%"));
    CHECK(!decode("%4"));
    CHECK(!decode("%zz"));
    CHECK(!decode("abc%g0"));
}

TEST_CASE("uri: UTF-8 validation is strict")
{
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("é日本😀"));
    CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF")); // U+10FFFF
    CHECK(!is_valid_utf8("bad\xff"));
    CHECK(!is_valid_utf8("\xC0\xAF"));         // overlong '/'
    CHECK(!is_valid_utf8("\xE0\x80\xAF"));     // overlong
    CHECK(!is_valid_utf8("\xED\xA0\x80"));     // surrogate
    CHECK(!is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
    CHECK(!is_valid_utf8("\xE6\x97"));         // truncated
    CHECK(!is_valid_utf8("\x80"));             // lone continuation
}
