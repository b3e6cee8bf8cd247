// AWS Signature Version 4, as a pure staged computation:
//   canonical request -> string to sign -> signature -> Authorization header (sign), or
//                                                     -> query parameters (presign: presigned URL).
// No I/O, no clock: the caller passes the time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncd::sigv4 {

struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token; // empty when not temporary credentials
};

struct request {
    std::string method;                                       // "GET", "PUT", ...
    std::string path;                                         // NOT encoded: "/bucket/a b.txt"
    std::vector<std::pair<std::string, std::string>> query;   // NOT encoded name/value pairs
    std::vector<std::pair<std::string, std::string>> headers; // as sent; must include host
    std::string payload_hash;                                 // hex SHA-256 or "UNSIGNED-PAYLOAD"
};

struct params {
    credentials creds;
    std::string region;
    std::string service = "s3";
    std::chrono::system_clock::time_point time;
    // S3 signs the path exactly as given (encoded once, no dot-segment removal). Other services
    // normalise the path first; the AWS test suite exercises both.
    bool normalize_path = false;
    // S3 signs x-amz-security-token; some services want it added after signing instead.
    bool sign_session_token = true;
};

// "20150830T123600Z" and "20150830"
std::string amz_date(std::chrono::system_clock::time_point t);
std::string amz_day(std::chrono::system_clock::time_point t);

// Canonical URI: the path encoded once per uri::encode(keep_slash), after optional normalisation.
std::string canonical_uri(std::string_view path, bool normalize_path);
// Canonical query string: each name and value encoded, sorted by encoded name then value.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

std::string canonical_request(const request& req, const params& p);
std::string string_to_sign(std::string_view canonical_request, const params& p);
std::string signature(std::string_view string_to_sign, const params& p);

// Signs req for p: returns the headers to add to the request (x-amz-date, x-amz-security-token
// when there is a token, Authorization). The caller must already have put x-amz-content-sha256
// (for S3) into req.headers if it wants it signed; sign() does not add it.
std::vector<std::pair<std::string, std::string>> sign(const request& req, const params& p);

// Signs req for p in the query-string form (a presigned URL, valid for `expires`; S3 accepts 1 s to
// 7 days): the same stages as sign(), with the signing values carried as query parameters instead
// of headers. Returns the parameters to append to the request's query, NOT encoded, in this order:
// X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Expires,
// X-Amz-Security-Token (when there is a token; signed unless p.sign_session_token is false),
// X-Amz-Signature. The headers in req.headers (at least host) are the signed ones; req.payload_hash
// is signed as given (S3 presigned URLs usually say "UNSIGNED-PAYLOAD").
std::vector<std::pair<std::string, std::string>> presign(const request& req, const params& p,
                                                         std::chrono::seconds expires);

} // namespace syncd::sigv4
