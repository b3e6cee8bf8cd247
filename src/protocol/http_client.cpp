#include "protocol/http_client.hpp"

#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <optional>
#include <type_traits>
#include <vector>

namespace syncd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

bool is_ip_literal(const std::string& host)
{
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// One keep-alive connection, plain or TLS.
struct connection {
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;

    beast::tcp_stream& tcp() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

// Parses a response straight into our response: no Beast field list to copy out of.
class response_parser final : public bhttp::basic_parser<false> {
public:
    response r;

private:
    void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, error_code&) override {}
    void on_response_impl(int code, beast::string_view, int, error_code&) override
    {
        r.status = static_cast<unsigned>(code);
        r.headers.reserve(16);
    }
    void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value, error_code&) override
    {
        r.headers.emplace_back(std::string(name.data(), name.size()), std::string(value.data(), value.size()));
    }
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override
    {
        if (length) // the parser has already refused lengths beyond its body limit
            r.body.reserve(static_cast<std::size_t>(*length));
    }
    std::size_t on_body_impl(beast::string_view body, error_code&) override
    {
        r.body.append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override
    {
        r.body.append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(error_code&) override {}
};

} // namespace

struct client::impl {
    asio::any_io_executor ex;
    s3::endpoint ep;
    client_options opt;
    asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
    std::optional<tcp::resolver::results_type> resolved;
    std::deque<std::unique_ptr<connection>> idle;
    std::vector<connection*> busy; // at most one per request in flight; a vector does not allocate per request
    bool closed = false;

    error make(errc code, const std::string& what, const error_code& ec = {}) const
    {
        return make_error(code, what + " " + ep.describe() + (ec ? ": " + ec.message() : ""));
    }

    asio::awaitable<result<std::unique_ptr<connection>>> connect();
    asio::awaitable<result<response>> exchange(connection& c, const std::string& head, const request& r);
    template <class Stream>
    asio::awaitable<error_code> write_read(Stream& s, connection& c, const std::string& head, const request& r,
                                           response_parser& parser, bool& file_ended);
    asio::awaitable<error_code> sendfile_body(connection& c, const file_range& f,
                                              std::chrono::steady_clock::duration limit, bool& file_ended);
    template <class Stream>
    asio::awaitable<error_code> copy_file_body(Stream& s, const file_range& f, bool& file_ended);
};

asio::awaitable<result<std::unique_ptr<connection>>> client::impl::connect()
{
    error_code ec;
    if (!resolved) {
        tcp::resolver resolver(ex);
        asio::steady_timer guard(ex, opt.connect_timeout);
        guard.async_wait([&resolver](error_code e) {
            if (!e)
                resolver.cancel();
        });
        const auto port = std::to_string(ep.port); // named: GCC 12 and temporaries in co_await
        auto results = co_await resolver.async_resolve(ep.host, port, asio::redirect_error(asio::use_awaitable, ec));
        guard.cancel();
        if (ec)
            co_return make(errc::resolve_failed, "cannot resolve", ec);
        resolved = std::move(results);
    }

    auto c = std::make_unique<connection>();
    if (ep.tls)
        c->tls.emplace(ex, tls_ctx);
    else
        c->plain.emplace(ex);

    c->tcp().expires_after(opt.connect_timeout);
    co_await c->tcp().async_connect(*resolved, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        resolved.reset(); // addresses may have changed; resolve again next time
        co_return make(errc::connect_failed, "cannot connect to",
                       ec == beast::error::timeout ? error_code(asio::error::timed_out) : ec);
    }
    c->tcp().socket().set_option(tcp::no_delay(true), ec);

    if (c->tls) {
        auto* ssl = c->tls->native_handle();
        if (!is_ip_literal(ep.host))
            SSL_set_tlsext_host_name(ssl, ep.host.c_str()); // SNI
        c->tls->set_verify_mode(asio::ssl::verify_peer);
        c->tls->set_verify_callback(asio::ssl::host_name_verification(ep.host));
        c->tcp().expires_after(opt.handshake_timeout);
        co_await c->tls->async_handshake(asio::ssl::stream_base::client,
                                         asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            const long verify = SSL_get_verify_result(ssl);
            if (verify != X509_V_OK) {
                auto e = make(errc::tls_verify_failed, "TLS certificate verification failed for");
                e.message += std::string(": ") + X509_verify_cert_error_string(verify) +
                             " (set ca_bundle to the PEM file of the CA that signed the server's "
                             "certificate, or check the endpoint's host name)";
                co_return e;
            }
            co_return make(errc::tls_failed, "TLS handshake failed with", ec);
        }
    }
    co_return c;
}

// Over plain TCP the kernel moves the range from the page cache into the socket. Asio has made the
// socket non-blocking, so a full send buffer means waiting until it is writable again; the whole
// body has `limit` to get out, like a body in memory.
asio::awaitable<error_code> client::impl::sendfile_body(connection& c, const file_range& f,
                                                        std::chrono::steady_clock::duration limit, bool& file_ended)
{
    auto& sock = c.tcp().socket();
    asio::steady_timer guard(ex, limit);
    bool timed_out = false;
    guard.async_wait([&sock, &timed_out](error_code e) {
        if (!e) {
            timed_out = true;
            sock.cancel();
        }
    });
    error_code ec;
    auto offset = static_cast<off_t>(f.offset);
    std::uint64_t left = f.length;
    while (left > 0 && !ec) {
        const auto n = ::sendfile(sock.native_handle(), f.fd, &offset, std::min<std::uint64_t>(left, 1u << 30));
        if (n > 0) {
            left -= static_cast<std::uint64_t>(n);
        } else if (n == 0) {
            file_ended = true;
            ec = asio::error::eof;
        } else if (errno == EAGAIN) {
            co_await sock.async_wait(tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
            if (timed_out)
                ec = beast::error::timeout;
        } else if (errno != EINTR) {
            ec = error_code(errno, boost::system::system_category());
        }
    }
    guard.cancel();
    co_return ec;
}

// Over TLS the range is read in pieces and written through the stream (whose deadline is set).
template <class Stream>
asio::awaitable<error_code> client::impl::copy_file_body(Stream& s, const file_range& f, bool& file_ended)
{
    constexpr std::uint64_t piece = 256u << 10;
    std::vector<char> buf(static_cast<std::size_t>(std::min(f.length, piece)));
    error_code ec;
    std::uint64_t done = 0;
    while (done < f.length && !ec) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(f.length - done, buf.size()));
        const auto n = ::pread(f.fd, buf.data(), want, static_cast<off_t>(f.offset + done));
        if (n > 0) {
            co_await asio::async_write(s, asio::buffer(buf.data(), static_cast<std::size_t>(n)),
                                       asio::redirect_error(asio::use_awaitable, ec));
            done += static_cast<std::uint64_t>(n);
        } else if (n == 0) {
            file_ended = true;
            ec = asio::error::eof;
        } else if (errno != EINTR) {
            ec = error_code(errno, boost::system::system_category());
        }
    }
    co_return ec;
}

template <class Stream>
asio::awaitable<error_code> client::impl::write_read(Stream& s, connection& c, const std::string& head,
                                                     const request& r, response_parser& parser, bool& file_ended)
{
    error_code ec;
    const auto limit = opt.write_timeout + std::chrono::seconds(static_cast<long>(r.body_size() >> 20));
    c.tcp().expires_after(limit);
    if (!r.has_file_body()) {
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(r.body.data(), r.body.size())};
        co_await asio::async_write(s, buffers, asio::redirect_error(asio::use_awaitable, ec));
    } else {
        co_await asio::async_write(s, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
            if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
                ec = co_await sendfile_body(c, r.file, limit, file_ended);
            else
                ec = co_await copy_file_body(s, r.file, file_ended);
        }
    }
    if (ec)
        co_return ec;
    c.tcp().expires_after(opt.response_timeout);
    co_await bhttp::async_read(s, c.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
}

asio::awaitable<result<response>> client::impl::exchange(connection& c, const std::string& head, const request& r)
{
    response_parser parser;
    parser.body_limit(opt.body_limit);
    if (r.method == "HEAD")
        parser.skip(true);
    bool file_ended = false;
    error_code ec = c.tls ? co_await write_read(*c.tls, c, head, r, parser, file_ended)
                          : co_await write_read(*c.plain, c, head, r, parser, file_ended);
    if (ec) {
        if (file_ended)
            co_return make(errc::file_changed, "the file ended before the body did; request not completed to");
        if (ec == beast::error::timeout)
            co_return make(errc::timeout, "no answer in time from");
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
            ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
            ec == asio::ssl::error::stream_truncated)
            co_return make(errc::connection_closed, "connection closed by", ec);
        co_return make(errc::http_protocol, "bad HTTP exchange with", ec);
    }
    parser.r.keep_alive = parser.keep_alive();
    co_return std::move(parser.r);
}

client::client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
client::~client() = default;

result<std::unique_ptr<client>> client::create(asio::any_io_executor ex, s3::endpoint ep,
                                               client_options opt)
{
    auto p = std::make_unique<impl>();
    p->ex = ex;
    p->ep = std::move(ep);
    p->opt = std::move(opt);
    SSL_CTX_set_min_proto_version(p->tls_ctx.native_handle(), TLS1_2_VERSION);
    // Parsing the system store takes longer than signing thousands of requests: only for TLS.
    if (!p->ep.tls)
        return std::unique_ptr<client>(new client(std::move(p)));
    error_code ec;
    if (p->opt.ca_bundle.empty())
        p->tls_ctx.set_default_verify_paths(ec);
    else
        p->tls_ctx.load_verify_file(p->opt.ca_bundle, ec);
    if (ec)
        return make_error(errc::tls_failed, "cannot load CA certificates from " +
                                                (p->opt.ca_bundle.empty() ? std::string("the system store")
                                                                          : p->opt.ca_bundle) +
                                                ": " + ec.message());
    return std::unique_ptr<client>(new client(std::move(p)));
}

void client::shutdown()
{
    auto& d = *impl_;
    d.closed = true;
    for (auto* c : d.busy)
        c->tcp().close();
    d.idle.clear();
}

asio::awaitable<result<response>> client::send(const request& r)
{
    auto& d = *impl_;
    if (d.closed)
        co_return make_error(errc::cancelled, "shutting down: request not sent to " + d.ep.describe());
    std::string head;
    // Written by us rather than Beast's serializer, whose per-request field list and buffer-sequence
    // walk were 15 % of the client's instructions per small file (docs/performance.md).
    if (!write_request_head(head, r, d.ep.host_header()))
        co_return make_error(errc::http_protocol, "request with a line break in its method, target or a header "
                                                  "not sent to " + d.ep.describe());

    // A pooled connection the server closed while it sat idle fails only when it is used: the
    // write breaks or, more often, the read finds the connection closed, after the whole request
    // may have gone out. Such a failure (connection_closed) of a reused connection is not
    // returned: the request is sent again, whole, on the next idle connection, and once the pool
    // is empty on a fresh one, whose failure is returned (for the retry policy to judge). These
    // resends are not counted as retries. A request that did arrive may so arrive twice: PUT and
    // DELETE are idempotent, a repeated CompleteMultipartUpload finds NoSuchUpload (which
    // s3::client resolves by listing), a repeated CreateMultipartUpload leaves an empty upload.
    for (;;) {
        std::unique_ptr<connection> c;
        bool reused = false;
        if (!d.idle.empty()) {
            c = std::move(d.idle.back());
            d.idle.pop_back();
            reused = true;
        } else {
            auto fresh = co_await d.connect();
            if (!fresh)
                co_return fresh.error();
            c = std::move(*fresh);
        }
        d.busy.push_back(c.get());
        auto res = co_await d.exchange(*c, head, r);
        d.busy.erase(std::find(d.busy.begin(), d.busy.end(), c.get()));
        if (d.closed)
            co_return make_error(errc::cancelled, "shutting down: request to " + d.ep.describe() + " cancelled");
        if (!res) {
            if (reused && res.error().code == make_error_code(errc::connection_closed))
                continue;
            co_return res.error();
        }
        if (res->keep_alive)
            d.idle.push_back(std::move(c));
        co_return std::move(*res);
    }
}

} // namespace syncd::http
