// HTTP/1.1 over TCP or TLS to one endpoint, with a keep-alive connection pool. Beast stays inside
// http_client.cpp; this header only needs Asio's awaitable.
#pragma once

#include "core/errc.hpp"
#include "protocol/http_message.hpp"
#include "protocol/s3_url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace syncd::http {

struct client_options {
    std::string ca_bundle;                              // "" = system trust store
    std::chrono::milliseconds connect_timeout{10'000};  // for resolving, and again for the TCP connect
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds response_timeout{60'000}; // after the request is written
    std::chrono::milliseconds write_timeout{30'000};    // plus 1 s per MiB of body
    std::size_t body_limit = 64u << 20;                 // largest response body accepted
};

class client {
public:
    // Fails when the CA bundle cannot be loaded.
    static result<std::unique_ptr<client>> create(boost::asio::any_io_executor ex,
                                                  s3::endpoint ep, client_options opt);
    ~client();

    // Sends one request and reads the whole response. Any HTTP status is a success here; errors
    // are transport failures (connect, TLS, timeout, closed connection, malformed response).
    boost::asio::awaitable<result<response>> send(const request& req);

    // Closes every connection, idle or busy: requests in flight fail with errc::cancelled and new
    // ones are refused. Used when the shutdown grace period runs out.
    void shutdown();

    struct impl;
private:
    explicit client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace syncd::http
