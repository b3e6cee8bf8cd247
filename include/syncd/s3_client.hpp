// S3 operations (ListObjectsV2, PutObject) over the HTTP client: signing, error mapping and the
// retry loop live here; the decisions themselves come from the pure retry policy.
#pragma once

#include "syncd/crypto.hpp"
#include "syncd/errc.hpp"
#include "syncd/http_client.hpp"
#include "syncd/retry.hpp"
#include "syncd/s3_url.hpp"
#include "syncd/s3_xml.hpp"
#include "syncd/sigv4.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
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
};

struct request_counts {
    std::uint64_t list = 0, put = 0, get = 0, other = 0;
    std::uint64_t retries = 0, throttled = 0;
};

struct put_options {
    crypto::md5_digest md5{};   // of the body; sent as Content-MD5 and checked against the ETag
    std::int64_t mtime_ns = 0;  // sent as x-amz-meta-mtime (seconds with fraction)
};

struct put_result {
    std::string etag; // without quotes
};

class client {
public:
    static result<std::unique_ptr<client>> create(boost::asio::any_io_executor ex,
                                                  client_settings settings);
    ~client();

    // Every object under prefix, all pages, keys decoded.
    boost::asio::awaitable<result<std::vector<object_info>>> list_objects(std::string prefix);

    // body must stay valid until the call completes.
    boost::asio::awaitable<result<put_result>> put_object(std::string key, std::string_view body,
                                                          put_options opt);

    // A small object (markers); the body is held in memory.
    struct object {
        std::string body;
        std::string etag;
    };
    boost::asio::awaitable<result<object>> get_object(std::string key);

    // Cancels requests in flight and refuses new ones (end of the shutdown grace period).
    void shutdown();

    const request_counts& counts() const;
    const client_settings& settings() const;

    struct impl;
private:
    explicit client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

// "1732476904.123456789"
std::string format_mtime(std::int64_t mtime_ns);

} // namespace syncd::s3
