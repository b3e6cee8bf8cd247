// S3 response bodies (XML) parsed into plain structs. Pure.
#pragma once

#include "core/errc.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace syncd::s3 {

struct object_info {
    std::string key;   // decoded
    std::uint64_t size = 0;
    std::string etag;  // without quotes
};

struct list_page {
    std::vector<object_info> objects;
    bool truncated = false;
    std::string next_continuation_token;
};

// ListObjectsV2 result (syncd lists without a delimiter, so there are no common prefixes to read);
// keys are decoded when <EncodingType>url</EncodingType>.
result<list_page> parse_list_objects_v2(std::string_view xml);

struct error_body {
    std::string code;
    std::string message;
    std::string request_id;
};

// An S3 <Error> document; nullopt when the body is not one (empty bodies of HEAD, proxies' HTML).
std::optional<error_body> parse_error(std::string_view xml);

// The error a failed S3 answer stands for: code classified, S3 code, message and request id
// copied; message says what failed.
error to_error(const error_body& body, unsigned http_status, std::string message);

// ---- multipart uploads ----------------------------------------------------------------------

// InitiateMultipartUploadResult: the UploadId.
result<std::string> parse_initiate_multipart_upload(std::string_view xml);

struct multipart_upload_info {
    std::string key;       // decoded
    std::string upload_id;
};

struct multipart_uploads_page {
    std::vector<multipart_upload_info> uploads;
    bool truncated = false;
    std::string next_key_marker;       // decoded
    std::string next_upload_id_marker;
};

// ListMultipartUploadsResult; keys decoded when <EncodingType>url</EncodingType>.
result<multipart_uploads_page> parse_list_multipart_uploads(std::string_view xml);

struct part_info {
    std::uint32_t number = 0;
    std::string etag;      // without quotes
    std::uint64_t size = 0;
};

struct parts_page {
    std::vector<part_info> parts;
    bool truncated = false;
    std::string next_part_number_marker;
};

// ListPartsResult.
result<parts_page> parse_list_parts(std::string_view xml);

// The CompleteMultipartUpload request body: each part's number and ETag, in the given order.
std::string complete_multipart_body(std::span<const part_info> parts);

// CompleteMultipartUploadResult: the new object's ETag (unquoted; "" when the element is there
// but empty, as Ceph RGW 16 sends it: look the ETag up). S3 may answer 200 and fail
// anyway, with an <Error> body: that is returned as the error it describes.
result<std::string> parse_complete_multipart_upload(std::string_view xml);

// '"abc"' -> 'abc' (ETags arrive quoted in headers and listings).
std::string unquote_etag(std::string etag);

// Maps an S3 error code and HTTP status to our error code.
errc classify(std::string_view s3_code, unsigned http_status);

} // namespace syncd::s3
