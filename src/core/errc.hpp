// Error codes and the error value carried by every expected failure.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

namespace syncd {

enum class errc {
    ok = 0,             // never an error: a zero error_code means success, so no failure may have 0
    // configuration and start-up (exit status 2)
    config_invalid,     // a setting's value is wrong (the config parser's diagnostics carry file and line)
    target_locked,      // another syncd holds the process lock of this target
    listen_failed,      // the metrics listener cannot be opened
    // local side
    file_changed,       // the file ended before the request body did (it shrank while being sent)
    // transport
    resolve_failed,
    connect_failed,
    tls_failed,
    tls_verify_failed,  // certificate not trusted / host name mismatch
    timeout,
    connection_closed,
    http_protocol,
    // S3 answers
    access_denied,
    invalid_access_key,
    signature_mismatch,
    no_such_bucket,
    no_such_key,
    bad_digest,         // the server rejected our Content-MD5
    slow_down,          // throttling of any kind
    request_timeout,
    clock_skew,
    server_error,       // 5xx without a more specific code
    s3_other,           // any other S3 error code
    integrity_mismatch, // the server's ETag does not match what we sent
    cancelled,
    too_large,          // beyond what S3 can store in one object (5 TiB)
    no_such_upload,     // the multipart upload does not exist (completed or aborted)
};

const boost::system::error_category& syncd_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// Everything a user needs to read about one failure.
struct error {
    boost::system::error_code code;
    std::string message;     // what failed, in words ("PUT run1/a.txt")
    std::string s3_code;     // "NoSuchBucket", empty when not from S3
    std::string s3_message;  // the server's <Message>, may be empty
    std::string request_id;  // x-amz-request-id / <RequestId>
    unsigned http_status = 0;

    // "PUT run1/a.txt: NoSuchBucket (HTTP 404): The bucket does not exist [request id X]"
    std::string to_string() const;
};

error make_error(errc e, std::string message);
// A failed system call: errno in the system category; to_string() adds its text to message.
error make_system_error(int err, std::string message);

template <class T>
using result = boost::system::result<T, error>;

// Lets result<T, error>::value() throw; reaching it is a bug (we check results first).
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

} // namespace syncd

namespace boost::system {
template <>
struct is_error_code_enum<syncd::errc> : std::true_type {};
} // namespace boost::system
