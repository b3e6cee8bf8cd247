#include "core/crypto.hpp"
#include "protocol/multipart.hpp"
#include "protocol/s3_xml.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace syncd;
using namespace syncd::multipart;

namespace {
constexpr std::uint64_t MiB = 1ull << 20;
constexpr std::uint64_t TiB = 1ull << 40;
} // namespace

TEST_CASE("multipart: parts of part_size, the last one shorter")
{
    auto plan = plan_parts(100 * MiB, 8 * MiB);
    REQUIRE(plan.has_value());
    CHECK(plan->part_size == 8 * MiB);
    CHECK(plan->count == 13);
    CHECK(plan->offset(1) == 0);
    CHECK(plan->length(1) == 8 * MiB);
    CHECK(plan->offset(13) == 96 * MiB);
    CHECK(plan->length(13) == 4 * MiB);

    auto exact = plan_parts(64 * MiB, 16 * MiB);
    REQUIRE(exact.has_value());
    CHECK(exact->count == 4);
    CHECK(exact->length(4) == 16 * MiB);
}

TEST_CASE("multipart: part size grows in whole MiB to stay within 10,000 parts")
{
    auto at_limit = plan_parts(10'000 * 8 * MiB, 8 * MiB);
    REQUIRE(at_limit.has_value());
    CHECK(at_limit->part_size == 8 * MiB);
    CHECK(at_limit->count == 10'000);

    auto over = plan_parts(10'000 * 8 * MiB + 1, 8 * MiB);
    REQUIRE(over.has_value());
    CHECK(over->part_size == 9 * MiB);
    CHECK(over->count <= max_parts);

    auto tib = plan_parts(TiB, 16 * MiB);
    REQUIRE(tib.has_value());
    CHECK(tib->part_size == 105 * MiB);
    CHECK(tib->count == 9'987);
    CHECK(tib->offset(tib->count) + tib->length(tib->count) == TiB);

    auto largest = plan_parts(5 * TiB, 5 * MiB);
    REQUIRE(largest.has_value());
    CHECK(largest->part_size == 525 * MiB);
    CHECK(largest->count == 9'987);
    CHECK(largest->part_size % MiB == 0);
}

TEST_CASE("multipart: files beyond 5 TiB are refused with a clear error")
{
    auto plan = plan_parts(5 * TiB + 1, 16 * MiB);
    REQUIRE_FALSE(plan.has_value());
    CHECK(plan.error().code == make_error_code(errc::too_large));
    CHECK(plan.error().to_string().find("5 TiB") != std::string::npos);
}

TEST_CASE("multipart: an empty file is one empty part")
{
    auto plan = plan_parts(0, 16 * MiB);
    REQUIRE(plan.has_value());
    CHECK(plan->count == 1);
    CHECK(plan->length(1) == 0);
}

TEST_CASE("multipart: ETag is the MD5 of the part MD5s and the part count")
{
    const std::vector<crypto::md5_digest> parts = {crypto::md5("hello"), crypto::md5("world")};
    CHECK(multipart_etag(parts) == "065947336a2f2a95ba8899f3675c3be6-2");
    const std::vector<crypto::md5_digest> one = {crypto::md5("hello")};
    CHECK(multipart_etag(one).ends_with("-1"));
    CHECK(multipart_etag(one) != crypto::hex(crypto::md5("hello")));
}

TEST_CASE("multipart: an interrupted upload's parts are checked against the plan")
{
    auto plan = plan_parts(20 * MiB, 8 * MiB); // 8 + 8 + 4
    REQUIRE(plan.has_value());
    const std::vector<s3::part_info> listed = {{1, "aaa", 8 * MiB}, {3, "ccc", 4 * MiB}};
    auto got = uploaded_parts(*plan, listed);
    REQUIRE(got.has_value());
    REQUIRE(got->size() == 4);
    CHECK((*got)[1] == "aaa");
    CHECK((*got)[2].empty());
    CHECK((*got)[3] == "ccc");

    const std::vector<s3::part_info> none;
    auto empty = uploaded_parts(*plan, none);
    REQUIRE(empty.has_value());
    CHECK((*empty)[1].empty());

    SUBCASE("another part size") {
        const std::vector<s3::part_info> other = {{1, "aaa", 5 * MiB}};
        CHECK_FALSE(uploaded_parts(*plan, other).has_value());
    }
    SUBCASE("a last part of another size") {
        const std::vector<s3::part_info> other = {{3, "ccc", 8 * MiB}};
        CHECK_FALSE(uploaded_parts(*plan, other).has_value());
    }
    SUBCASE("a part beyond the plan") {
        const std::vector<s3::part_info> other = {{4, "ddd", 1 * MiB}};
        CHECK_FALSE(uploaded_parts(*plan, other).has_value());
    }
}

// ---- XML ----------------------------------------------------------------------------------

TEST_CASE("s3_xml: InitiateMultipartUploadResult gives the upload id")
{
    auto id = s3::parse_initiate_multipart_upload(
        R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>big.bin</Key><UploadId>VXBsb2FkIElE.ZW-1</UploadId>
</InitiateMultipartUploadResult>)");
    REQUIRE(id.has_value());
    CHECK(*id == "VXBsb2FkIElE.ZW-1");

    auto missing = s3::parse_initiate_multipart_upload("<InitiateMultipartUploadResult/>");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == make_error_code(errc::http_protocol));
    CHECK_FALSE(s3::parse_initiate_multipart_upload("not xml <").has_value());
}

TEST_CASE("s3_xml: ListMultipartUploadsResult with url encoding and a next page")
{
    auto page = s3::parse_list_multipart_uploads(
        R"(<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>p/b%20c</NextKeyMarker><NextUploadIdMarker>id-2</NextUploadIdMarker>
  <EncodingType>url</EncodingType><MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>p/a%2Bb</Key><UploadId>id-1</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>
  <Upload><Key>p/b%20c</Key><UploadId>id-2</UploadId><Initiated>2026-01-01T00:00:01.000Z</Initiated></Upload>
</ListMultipartUploadsResult>)");
    REQUIRE(page.has_value());
    REQUIRE(page->uploads.size() == 2);
    CHECK(page->uploads[0].key == "p/a+b");
    CHECK(page->uploads[0].upload_id == "id-1");
    CHECK(page->uploads[1].key == "p/b c");
    CHECK(page->truncated);
    CHECK(page->next_key_marker == "p/b c");
    CHECK(page->next_upload_id_marker == "id-2");

    auto empty = s3::parse_list_multipart_uploads(
        "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>");
    REQUIRE(empty.has_value());
    CHECK(empty->uploads.empty());
    CHECK_FALSE(empty->truncated);

    // A server that does not know ?uploads and lists objects instead.
    auto wrong = s3::parse_list_multipart_uploads("<ListBucketResult></ListBucketResult>");
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().message.find("ListMultipartUploadsResult") != std::string::npos);
}

TEST_CASE("s3_xml: ListPartsResult")
{
    auto page = s3::parse_list_parts(R"(<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>big.bin</Key><UploadId>id-1</UploadId>
  <PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>
  <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
  <Part><PartNumber>1</PartNumber><ETag>"5d41402abc4b2a76b9719d911017c592"</ETag><Size>8388608</Size></Part>
  <Part><PartNumber>2</PartNumber><ETag>&quot;7d793037a0760186574b0282f2f435e7&quot;</ETag><Size>8388608</Size></Part>
</ListPartsResult>)");
    REQUIRE(page.has_value());
    REQUIRE(page->parts.size() == 2);
    CHECK(page->parts[0].number == 1);
    CHECK(page->parts[0].etag == "5d41402abc4b2a76b9719d911017c592");
    CHECK(page->parts[1].size == 8388608);
    CHECK(page->parts[1].etag == "7d793037a0760186574b0282f2f435e7");
    CHECK(page->truncated);
    CHECK(page->next_part_number_marker == "2");

    // moto names the root element ListPartsResponse.
    auto moto = s3::parse_list_parts(
        R"(<?xml version="1.0" encoding="utf-8"?>
<ListPartsResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>z</Key><UploadId>Bq</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2026-11-25T01:48:27.000Z</LastModified><ETag>"900150983cd24fb0d6963f7d28e17f72"</ETag><Size>3</Size></Part><StorageClass>STANDARD</StorageClass></ListPartsResponse>)");
    REQUIRE(moto.has_value());
    REQUIRE(moto->parts.size() == 1);
    CHECK(moto->parts[0].etag == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(moto->parts[0].size == 3);
    CHECK_FALSE(moto->truncated);

    auto bad = s3::parse_list_parts("<ListPartsResult><Part><PartNumber>x</PartNumber><Size>1</Size></Part></ListPartsResult>");
    CHECK_FALSE(bad.has_value());
}

TEST_CASE("s3_xml: CompleteMultipartUpload body lists the parts in order")
{
    const std::vector<s3::part_info> parts = {{1, "aa", 0}, {2, "bb", 0}};
    const auto body = s3::complete_multipart_body(parts);
    CHECK(body.find("<CompleteMultipartUpload") != std::string::npos);
    CHECK(body.find("<Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part>"
                    "<Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag></Part>") != std::string::npos);
}

TEST_CASE("s3_xml: CompleteMultipartUploadResult gives the ETag")
{
    auto etag = s3::parse_complete_multipart_upload(
        R"(<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://b.s3.amazonaws.com/big.bin</Location><Bucket>b</Bucket><Key>big.bin</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>)");
    REQUIRE(etag.has_value());
    CHECK(*etag == "3858f62230ac3c915f300c664312c11f-9");

    // moto names the root element ...Response.
    auto moto = s3::parse_complete_multipart_upload(
        R"(<?xml version="1.0" encoding="utf-8"?>
<CompleteMultipartUploadResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://bkt.s3.amazonaws.com/x</Location><Bucket>bkt</Bucket><Key>x</Key><ETag>"af5da9f45af7a300e3aded972f8ff687-1"</ETag></CompleteMultipartUploadResponse>)");
    REQUIRE(moto.has_value());
    CHECK(*moto == "af5da9f45af7a300e3aded972f8ff687-1");

    auto other = s3::parse_complete_multipart_upload("<Something><ETag>x</ETag></Something>");
    CHECK_FALSE(other.has_value());

    // Ceph RGW 16 sends the element empty: success, with the ETag left for the caller to look up.
    auto rgw = s3::parse_complete_multipart_upload(
        R"(<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://127.0.0.1:38947/bkt/big.bin</Location><Bucket>bkt</Bucket><Key>big.bin</Key><ETag></ETag></CompleteMultipartUploadResult>)");
    REQUIRE(rgw.has_value());
    CHECK(rgw->empty());

    // No ETag element at all is still a malformed answer.
    auto none = s3::parse_complete_multipart_upload(
        R"(<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key></CompleteMultipartUploadResult>)");
    CHECK_FALSE(none.has_value());
}

TEST_CASE("s3_xml: CompleteMultipartUpload answered 200 with an <Error> body is that error")
{
    auto etag = s3::parse_complete_multipart_upload(
        R"(<?xml version="1.0" encoding="UTF-8"?>

<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>
<RequestId>656c76696e6727732072657175657374</RequestId></Error>)");
    REQUIRE_FALSE(etag.has_value());
    CHECK(etag.error().code == make_error_code(errc::server_error));
    CHECK(etag.error().s3_code == "InternalError");
    CHECK(etag.error().request_id == "656c76696e6727732072657175657374");
    CHECK(etag.error().http_status == 200);

    auto invalid = s3::parse_complete_multipart_upload(
        "<Error><Code>InvalidPart</Code><Message>One or more of the specified parts could not be found.</Message></Error>");
    REQUIRE_FALSE(invalid.has_value());
    CHECK(invalid.error().code == make_error_code(errc::s3_other));
    CHECK(invalid.error().s3_code == "InvalidPart");
}

TEST_CASE("s3_xml: NoSuchUpload is its own error code")
{
    CHECK(s3::classify("NoSuchUpload", 404) == errc::no_such_upload);
}
