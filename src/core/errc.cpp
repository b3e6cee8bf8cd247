#include "core/errc.hpp"

#include <stdexcept>

namespace syncd {
namespace {

class category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "syncd"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::ok: return "success";
        case errc::config_invalid: return "invalid configuration value";
        case errc::target_locked: return "another syncd is syncing this target";
        case errc::listen_failed: return "cannot listen for metrics";
        case errc::file_changed: return "file changed while it was read";
        case errc::resolve_failed: return "host name could not be resolved";
        case errc::connect_failed: return "could not connect to the endpoint";
        case errc::tls_failed: return "TLS handshake failed";
        case errc::tls_verify_failed: return "server certificate not trusted";
        case errc::timeout: return "request timed out";
        case errc::connection_closed: return "connection closed by the server";
        case errc::http_protocol: return "malformed HTTP response";
        case errc::access_denied: return "access denied";
        case errc::invalid_access_key: return "access key id not recognised";
        case errc::signature_mismatch: return "request signature rejected (wrong secret key?)";
        case errc::no_such_bucket: return "bucket does not exist";
        case errc::no_such_key: return "object does not exist";
        case errc::bad_digest: return "server rejected the content checksum";
        case errc::slow_down: return "server asked to slow down";
        case errc::request_timeout: return "server timed out waiting for the request";
        case errc::clock_skew: return "local clock differs too much from the server's";
        case errc::server_error: return "server error";
        case errc::s3_other: return "S3 error";
        case errc::integrity_mismatch: return "stored object does not match what was sent";
        case errc::cancelled: return "cancelled";
        case errc::too_large: return "file larger than the largest S3 object (5 TiB)";
        case errc::no_such_upload: return "multipart upload does not exist";
        }
        return "unknown syncd error";
    }
};

} // namespace

const boost::system::error_category& syncd_category() noexcept
{
    static const category_impl instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), syncd_category()};
}

error make_error(errc e, std::string message)
{
    error err;
    err.code = make_error_code(e);
    err.message = std::move(message);
    return err;
}

error make_system_error(int err, std::string message)
{
    error e;
    e.code = boost::system::error_code(err, boost::system::system_category());
    e.message = std::move(message);
    return e;
}

std::string error::to_string() const
{
    std::string out = message;
    if (!out.empty())
        out += ": ";
    if (!s3_code.empty()) {
        out += s3_code;
        if (http_status != 0)
            out += " (HTTP " + std::to_string(http_status) + ")";
        if (!s3_message.empty())
            out += ": " + s3_message;
        else
            out += ": " + code.message();
    } else {
        out += code.message();
        if (http_status != 0)
            out += " (HTTP " + std::to_string(http_status) + ")";
    }
    if (!request_id.empty())
        out += " [request id " + request_id + "]";
    return out;
}

void throw_exception_from_error(const error& e, const boost::source_location&)
{
    throw std::logic_error("unchecked syncd::result: " + e.to_string());
}

} // namespace syncd
