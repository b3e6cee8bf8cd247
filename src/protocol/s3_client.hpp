// S3 operations (ListObjectsV2, PutObject, GetObject, the multipart upload family) over the HTTP client: signing, error mapping and the
// retry loop live here; the decisions themselves come from the pure retry policy.
#pragma once

#include "core/crypto.hpp"
#include "core/errc.hpp"
#include "protocol/http_client.hpp"
#include "protocol/key_range.hpp"
#include "protocol/retry.hpp"
#include "protocol/s3_url.hpp"
#include "protocol/s3_xml.hpp"
#include "protocol/sigv4.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace syncd::s3 {

struct client_settings {
    addressing addr;
    std::string region;
    sigv4::credentials creds;
    http::client_options http;
    retry::policy policy;
    std::string storage_class;
    std::string sse;
    std::string sse_kms_key_id;
    unsigned max_in_flight = 0; // requests on the wire at once at most (concurrency); 0 = no limit
};

// Requests made, for the cycle report: listing pages (objects, multipart uploads, parts), PUTs
// (objects and parts) and GETs, each counted once however often it was retried, and the retries of
// any request. Creating, completing and aborting multipart uploads is not counted.
struct request_counts {
    std::uint64_t list = 0, put = 0, get = 0;
    std::uint64_t retries = 0;
};

struct put_options {
    crypto::md5_digest md5{};   // of the body; sent as Content-MD5 and checked against the ETag
    std::int64_t mtime_ns = 0;  // sent as x-amz-meta-mtime (seconds with fraction)
};

struct put_result {
    std::string etag; // without quotes
    // complete_multipart_upload only: the server answered with a plain MD5 (the whole object's,
    // as s3rver and some gateways do), not the multipart ETag. Not evidence yet: the caller
    // must compare it with the whole file's MD5 before taking the object as verified.
    bool whole_object_md5 = false;
};

class client {
public:
    static result<std::unique_ptr<client>> create(boost::asio::any_io_executor ex,
                                                  client_settings settings);
    ~client();

    // The objects under prefix within range (keys decoded), handed to on_page one page (up to 1,000
    // objects) at a time, so that a caller that indexes the listing never holds it twice. The
    // entries may be moved from. Several ranges of one prefix can be listed at once
    // (list_ranges.hpp).
    using page_sink = std::function<void(std::vector<object_info>&)>;
    boost::asio::awaitable<result<void>> list_objects(std::string prefix, page_sink on_page, key_range range = {});

    // body must stay valid until the call completes.
    boost::asio::awaitable<result<put_result>> put_object(std::string key, std::string_view body,
                                                          put_options opt);

    // A small object (markers); the body is held in memory.
    struct object {
        std::string body;
        std::string etag;
    };
    boost::asio::awaitable<result<object>> get_object(std::string key);

    // ---- multipart uploads (see docs/multipart.md) ----

    // Starts an upload carrying the file's mtime and the storage class / SSE settings; returns
    // its upload id.
    boost::asio::awaitable<result<std::string>> create_multipart_upload(std::string key, std::int64_t mtime_ns);

    // One part, read from the file as it is sent (its fd must stay open until the call completes),
    // with Content-MD5 of the bytes as they were hashed: a server that checks it refuses a part
    // that changed in between, and the part's ETag is checked against md5 like a single PUT's.
    // still_wanted, when given, is asked before a failed attempt is retried: once it says no
    // (the file changed, so the part can only be refused again; or the upload is stopping and
    // will be aborted), the failure is returned at once.
    boost::asio::awaitable<result<put_result>> upload_part(std::string key, std::string upload_id,
                                                           std::uint32_t number, http::file_range part,
                                                           crypto::md5_digest md5,
                                                           std::function<bool()> still_wanted = {});

    // Completes the upload from parts (number and ETag each, ascending) and checks the object's
    // ETag against expected_etag, the one computed locally. An answer lost on the way is
    // recovered: when the retry finds the upload gone, the object is looked up by its ETag.
    // A plain 32-hex ETag (no SSE-KMS/SSE-C) is returned with whole_object_md5 set, unchecked.
    boost::asio::awaitable<result<put_result>> complete_multipart_upload(std::string key, std::string upload_id,
                                                                         std::vector<part_info> parts,
                                                                         std::string expected_etag);

    // An upload that does not exist (any more) counts as aborted. Not held back by max_in_flight.
    boost::asio::awaitable<result<void>> abort_multipart_upload(std::string key, std::string upload_id);

    // Incomplete uploads whose key starts with prefix, all pages.
    boost::asio::awaitable<result<std::vector<multipart_upload_info>>> list_multipart_uploads(std::string prefix);

    // The parts an incomplete upload holds, all pages.
    boost::asio::awaitable<result<std::vector<part_info>>> list_parts(std::string key, std::string upload_id);

    // Cancels requests in flight and refuses new ones (end of the shutdown grace period).
    void shutdown();

    const request_counts& counts() const;
    const client_settings& settings() const;

    struct impl;
private:
    explicit client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace syncd::s3
