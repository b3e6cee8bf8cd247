#include "protocol/s3_xml.hpp"

#include <doctest/doctest.h>

using namespace syncd;
using namespace syncd::s3;

TEST_CASE("s3_xml: ListObjectsV2 page with url encoding is decoded")
{
    const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bkt</Name><Prefix>p%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>tok+en/=</NextContinuationToken>
  <Contents><Key>p/a+b%2Bc%20d.txt</Key><Size>12</Size><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag></Contents>
  <Contents><Key>p/%C3%A9%F0%9F%98%80</Key><Size>0</Size><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag></Contents>
  <Contents><Key>p/big</Key><Size>6442450944</Size><ETag>"aa-3"</ETag></Contents>
</ListBucketResult>)";
    auto page = parse_list_objects_v2(xml);
    REQUIRE(page.has_value());
    REQUIRE(page->objects.size() == 3);
    CHECK(page->objects[0].key == "p/a b+c d.txt");
    CHECK(page->objects[0].size == 12);
    CHECK(page->objects[0].etag == "0123456789abcdef0123456789abcdef");
    CHECK(page->objects[1].key == "p/é😀");
    CHECK(page->objects[2].size == 6442450944ull);
    CHECK(page->objects[2].etag == "aa-3");
    CHECK(page->truncated);
    CHECK(page->next_continuation_token == "tok+en/=");
}

TEST_CASE("s3_xml: keys are taken literally without url encoding")
{
    auto page = parse_list_objects_v2(
        "<ListBucketResult><IsTruncated>false</IsTruncated>"
        "<Contents><Key>a+b%20</Key><Size>1</Size></Contents></ListBucketResult>");
    REQUIRE(page.has_value());
    REQUIRE(page->objects.size() == 1);
    CHECK(page->objects[0].key == "a+b%20");
    CHECK(!page->truncated);
}

TEST_CASE("s3_xml: malformed listings are errors, not empty pages")
{
    CHECK(parse_list_objects_v2("not xml <").has_error());
    CHECK(parse_list_objects_v2("<Other/>").has_error());
    CHECK(parse_list_objects_v2("<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>").has_error());
    CHECK(parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").has_error());
    CHECK(parse_list_objects_v2("<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key><Size>1</Size></Contents></ListBucketResult>").has_error());
    auto empty = parse_list_objects_v2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
    REQUIRE(empty.has_value());
    CHECK(empty->objects.empty());
}

TEST_CASE("s3_xml: error documents carry code, message and request id")
{
    auto e = parse_error(R"(<?xml version="1.0"?><Error><Code>NoSuchBucket</Code>
      <Message>The specified bucket does not exist</Message><BucketName>x</BucketName>
      <RequestId>4442587FB7D0A2F9</RequestId></Error>)");
    REQUIRE(e);
    CHECK(e->code == "NoSuchBucket");
    CHECK(e->message == "The specified bucket does not exist");
    CHECK(e->request_id == "4442587FB7D0A2F9");
    // radosgw sends an empty <Message>
    e = parse_error("<Error><Code>SignatureDoesNotMatch</Code><Message></Message></Error>");
    REQUIRE(e);
    CHECK(e->message.empty());
    CHECK(!parse_error(""));
    CHECK(!parse_error("<html>bad gateway</html>"));
}

TEST_CASE("s3_xml: S3 codes map to error kinds")
{
    CHECK(classify("NoSuchBucket", 404) == errc::no_such_bucket);
    CHECK(classify("SignatureDoesNotMatch", 403) == errc::signature_mismatch);
    CHECK(classify("InvalidAccessKeyId", 403) == errc::invalid_access_key);
    CHECK(classify("AccessDenied", 403) == errc::access_denied);
    CHECK(classify("SlowDown", 503) == errc::slow_down);
    CHECK(classify("", 429) == errc::slow_down);
    CHECK(classify("RequestTimeout", 400) == errc::request_timeout);
    CHECK(classify("RequestTimeTooSkewed", 403) == errc::clock_skew);
    CHECK(classify("InternalError", 500) == errc::server_error);
    CHECK(classify("", 502) == errc::server_error);
    CHECK(classify("BadDigest", 400) == errc::bad_digest);
    CHECK(classify("", 403) == errc::access_denied);
    CHECK(classify("WeirdCode", 400) == errc::s3_other);
}
