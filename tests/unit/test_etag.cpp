#include "protocol/etag.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace syncd::s3;

namespace {
const std::string md5 = "0cc175b9c0f1b6a831c399e269772661";         // MD5 of "a"
const std::string other = "92eb5ffee6ae2fec3ad71c777531578f";       // MD5 of "b"
const std::string sha1 = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"; // SHA-1 of "a": 40 hex
const std::string mp = "a5b6c1a4e0d1e4a3f2b1c0d9e8f7a6b5-3";
const sse_headers none{"", "", ""};
sse_headers answered(std::string_view algorithm) { return {algorithm, "", ""}; }
sse_headers customer(std::string_view algorithm) { return {"", algorithm, ""}; }
sse_headers configured(std::string_view sse) { return {"", "", sse}; }
} // namespace

TEST_CASE("etag: a single PUT's ETag of MD5 form is compared, case-insensitively")
{
    CHECK(classify_etag(md5, md5, none) == etag_evidence::equal);
    CHECK(classify_etag("0CC175B9C0F1B6A831C399E269772661", md5, none) == etag_evidence::equal);
    CHECK(classify_etag(other, md5, none) == etag_evidence::mismatch);
}

TEST_CASE("etag: a missing, malformed or non-MD5 ETag without SSE is no evidence")
{
    CHECK(classify_etag("", md5, none) == etag_evidence::malformed);
    CHECK(classify_etag(md5.substr(0, 31), md5, none) == etag_evidence::malformed); // 31 hex
    CHECK(classify_etag(md5 + "0", md5, none) == etag_evidence::malformed);         // 33 hex
    CHECK(classify_etag(sha1, md5, none) == etag_evidence::malformed);              // SHA-1
    // 32 characters, but not hex: the old length-only test took this one as comparable.
    CHECK(classify_etag("0cc175b9c0f1b6a831c399e26977266z", md5, none) == etag_evidence::malformed);
    CHECK(classify_etag("\"" + md5 + "\"", md5, none) == etag_evidence::malformed); // quotes are the caller's
    CHECK(classify_etag(md5 + "-1", md5, none) == etag_evidence::malformed);        // multipart form on a PUT
    CHECK(classify_etag(" " + md5.substr(1), md5, none) == etag_evidence::malformed);
}

TEST_CASE("etag: a multipart completion must be <32 hex>-<N>, N the part count")
{
    CHECK(classify_etag(mp, mp, none) == etag_evidence::equal);
    CHECK(classify_etag("A5B6C1A4E0D1E4A3F2B1C0D9E8F7A6B5-3", mp, none) == etag_evidence::equal);
    CHECK(classify_etag(other + "-3", mp, none) == etag_evidence::mismatch);
    CHECK(classify_etag(mp.substr(0, 32) + "-4", mp, none) == etag_evidence::mismatch); // other part count
    CHECK(classify_etag("", mp, none) == etag_evidence::malformed);
    CHECK(classify_etag(mp.substr(0, 33), mp, none) == etag_evidence::malformed);        // "-" without N
    CHECK(classify_etag(mp.substr(0, 32) + "-03", mp, none) == etag_evidence::malformed);
    CHECK(classify_etag(mp.substr(0, 32) + "-3x", mp, none) == etag_evidence::malformed);
    CHECK(classify_etag(mp.substr(0, 32) + "-100000", mp, none) == etag_evidence::malformed);
    CHECK(classify_etag(mp.substr(1) + "-3", mp, none) == etag_evidence::malformed);     // 31 hex
}

TEST_CASE("etag: a plain 32-hex ETag where a multipart one was expected is the whole object's MD5, not yet evidence")
{
    // s3rver and some gateways answer a completion with the MD5 of the whole object: neither
    // equal nor a mismatch until the caller compares it with the whole file's MD5.
    CHECK(classify_etag(mp.substr(0, 32), mp, none) == etag_evidence::whole_object_md5);
    CHECK(classify_etag(md5, mp, none) == etag_evidence::whole_object_md5);
    CHECK(classify_etag("0CC175B9C0F1B6A831C399E269772661", mp, none) == etag_evidence::whole_object_md5);
    CHECK(classify_etag(md5, mp, answered("AES256")) == etag_evidence::whole_object_md5);
    // Only the well-formed plain MD5: anything else is still no evidence.
    CHECK(classify_etag(md5.substr(0, 31), mp, none) == etag_evidence::malformed);
    CHECK(classify_etag(md5 + "0", mp, none) == etag_evidence::malformed);
    CHECK(classify_etag(sha1, mp, none) == etag_evidence::malformed);
    CHECK(classify_etag("0cc175b9c0f1b6a831c399e26977266z", mp, none) == etag_evidence::malformed);
    // With SSE-KMS/SSE-C nothing is comparable, a plain MD5 form included.
    CHECK(classify_etag(md5, mp, answered("aws:kms")) == etag_evidence::not_comparable);
    CHECK(classify_etag(md5, mp, customer("AES256")) == etag_evidence::not_comparable);
    // A single PUT or a part never gets this answer: its ETag is compared directly.
    CHECK(classify_etag(md5, other, none) == etag_evidence::mismatch);
    const auto said = describe_etag_evidence(etag_evidence::whole_object_md5, md5, mp);
    CHECK(said.find(md5) != std::string::npos);
    CHECK(said.find("multipart ETag " + mp) != std::string::npos);
    CHECK(said.find("whole file") != std::string::npos);
}

TEST_CASE("etag: SSE-KMS, DSSE-KMS and SSE-C make the ETag not comparable, whatever it is")
{
    for (const auto* etag : {"", "not-an-md5", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"}) {
        CAPTURE(etag);
        CHECK(classify_etag(etag, md5, answered("aws:kms")) == etag_evidence::not_comparable);
        CHECK(classify_etag(etag, md5, answered("aws:kms:dsse")) == etag_evidence::not_comparable);
        CHECK(classify_etag(etag, md5, customer("AES256")) == etag_evidence::not_comparable);
        CHECK(classify_etag(etag, mp, answered("aws:kms")) == etag_evidence::not_comparable);
        // Configured sse = aws:kms: not comparable even when the answer does not say so.
        CHECK(classify_etag(etag, md5, configured("aws:kms")) == etag_evidence::not_comparable);
    }
    CHECK(classify_etag(other, md5, answered("aws:kms")) == etag_evidence::not_comparable);
}

TEST_CASE("etag: SSE-S3 (AES256) and unknown algorithms keep MD5 ETags, so they are checked")
{
    CHECK(classify_etag(md5, md5, answered("AES256")) == etag_evidence::equal);
    CHECK(classify_etag(other, md5, answered("AES256")) == etag_evidence::mismatch);
    CHECK(classify_etag("", md5, sse_headers{"AES256", "", "AES256"}) == etag_evidence::malformed);
    CHECK(classify_etag(sha1, md5, answered("aws:KMS")) == etag_evidence::malformed);
    CHECK(classify_etag(sha1, md5, answered("kms")) == etag_evidence::malformed);
}

TEST_CASE("etag: the description names both values")
{
    const auto missing = describe_etag_evidence(etag_evidence::malformed, "", md5);
    CHECK(missing.find("no ETag") != std::string::npos);
    CHECK(missing.find(md5) != std::string::npos);
    const auto wrong = describe_etag_evidence(etag_evidence::malformed, sha1, md5);
    CHECK(wrong.find(sha1) != std::string::npos);
    CHECK(wrong.find(md5) != std::string::npos);
    CHECK(wrong.find("not an MD5") != std::string::npos);
    // A value from the network with a line break in it is shown escaped, not as a second log line.
    const auto odd = describe_etag_evidence(etag_evidence::malformed, "ab\ncd", md5);
    CHECK(odd.find('\n') == std::string::npos);
    CHECK(odd.find("'ab\\x0acd'") != std::string::npos);
    const auto multi = describe_etag_evidence(etag_evidence::mismatch, other + "-3", mp);
    CHECK(multi.find(other + "-3") != std::string::npos);
    CHECK(multi.find("multipart ETag " + mp) != std::string::npos);
}
