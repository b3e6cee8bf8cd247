// S3 response bodies (XML) parsed into plain structs. Pure.
#pragma once

#include "syncd/errc.hpp"

#include <cstdint>
#include <optional>
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
    std::vector<std::string> common_prefixes; // decoded, when a delimiter was used
    bool truncated = false;
    std::string next_continuation_token;
};

// ListObjectsV2 result; keys and prefixes are decoded when <EncodingType>url</EncodingType>.
result<list_page> parse_list_objects_v2(std::string_view xml);

struct error_body {
    std::string code;
    std::string message;
    std::string request_id;
    std::string resource;
};

// An S3 <Error> document; nullopt when the body is not one (empty bodies of HEAD, proxies' HTML).
std::optional<error_body> parse_error(std::string_view xml);

// '"abc"' -> 'abc' (ETags arrive quoted in headers and listings).
std::string unquote_etag(std::string etag);

// Maps an S3 error code and HTTP status to our error code.
errc classify(std::string_view s3_code, unsigned http_status);

} // namespace syncd::s3
