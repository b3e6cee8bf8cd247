#include "app/metrics_server.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <set>
#include <stdexcept>

namespace syncd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct metrics_server::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, const metrics& m) : ex(std::move(ex)), m(m) {}
    asio::any_io_executor ex;
    std::vector<tcp::acceptor> acceptors; // one per address bound
    const metrics& m;
    std::set<beast::tcp_stream*> open;
    bool stopped = false;

    http::response<http::string_body> answer(const http::request<http::string_body>& req) const
    {
        http::response<http::string_body> res;
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        const auto now = metrics::clock::now();
        const auto target = std::string_view(req.target());
        const auto path = target.substr(0, target.find('?'));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            res.result(http::status::method_not_allowed);
            res.body() = "GET only\n";
        } else if (path == "/metrics") {
            res.result(http::status::ok);
            res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res.body() = m.render(now);
        } else if (path == "/healthz") {
            const auto h = m.check(now);
            res.result(h.ok ? http::status::ok : http::status::service_unavailable);
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            res.body() = h.reason + "\n";
        } else {
            res.result(http::status::not_found);
            res.body() = "try /metrics or /healthz\n";
        }
        res.prepare_payload();
        return res;
    }

    asio::awaitable<void> session(tcp::socket socket)
    {
        auto self = shared_from_this();
        beast::tcp_stream stream(std::move(socket));
        open.insert(&stream);
        beast::flat_buffer buffer;
        boost::system::error_code ec;
        for (;;) {
            http::request<http::string_body> req;
            stream.expires_after(std::chrono::seconds(30));
            co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                break;
            auto res = answer(req);
            co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
            if (ec || !res.keep_alive())
                break;
        }
        open.erase(&stream);
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    }

    asio::awaitable<void> accept_loop(tcp::acceptor& acceptor)
    {
        auto self = shared_from_this();
        while (!stopped) {
            boost::system::error_code ec;
            auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                break;
            asio::co_spawn(ex, session(std::move(socket)), asio::detached);
        }
    }

    // Opens, binds and listens; the acceptor stays closed on failure.
    boost::system::error_code listen_on(const tcp::endpoint& ep)
    {
        tcp::acceptor acceptor(ex);
        boost::system::error_code ec;
        acceptor.open(ep.protocol(), ec);
        if (!ec)
            acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec && ep.address().is_v6()) // [::] must not also take the IPv4 port 0.0.0.0 may bind
            acceptor.set_option(asio::ip::v6_only(true), ec);
        if (!ec)
            acceptor.bind(ep, ec);
        if (!ec)
            acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (!ec)
            acceptors.push_back(std::move(acceptor));
        return ec;
    }
};

namespace {

// "127.0.0.1:9108", "[::1]:9108": written as the setting is.
std::string show(const tcp::endpoint& ep)
{
    return listen_address{ep.address().to_string(), ep.port(), {}}.to_string();
}

// The address (or its family) does not exist on this machine: skip it rather than refuse to
// start, so that "localhost" works where /etc/hosts lists ::1 but IPv6 is off.
bool not_here(const boost::system::error_code& ec)
{
    return ec == boost::system::errc::address_not_available || ec == boost::system::errc::address_family_not_supported;
}

} // namespace

metrics_server::metrics_server(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
metrics_server::~metrics_server() { stop(); }

result<std::unique_ptr<metrics_server>> metrics_server::start(asio::any_io_executor ex, const listen_address& listen,
                                                              const metrics& m)
{
    auto d = std::make_shared<impl>(ex, m);
    unsigned short port = listen.port;
    std::string where;
    for (const auto& text : listen.addresses) {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(text, ec);
        if (ec) // load_config wrote it from getaddrinfo's answer: a bug
            throw std::logic_error("metrics_listen resolved to '" + text + "', not an IP address");
        const tcp::endpoint ep(address, port);
        ec = d->listen_on(ep);
        if (ec && not_here(ec)) {
            log::warn("metrics", "metrics_listen " + listen.to_string() + ": not listening on " + show(ep) + ": " +
                                     ec.message());
            continue;
        }
        if (ec)
            return make_error(errc::listen_failed, "cannot listen on " + listen.to_string() + " for metrics" +
                                                        (listen.addresses.size() > 1 ? " (" + show(ep) + ")" : "") +
                                                        ": " + ec.message());
        port = d->acceptors.back().local_endpoint(ec).port(); // the others take the port the first picked
        where += (where.empty() ? "" : ", ") + show(tcp::endpoint(address, port));
    }
    if (d->acceptors.empty())
        return make_error(errc::listen_failed, "cannot listen on " + listen.to_string() +
                                                    " for metrics: none of its addresses exists on this machine");
    for (auto& acceptor : d->acceptors)
        asio::co_spawn(ex, d->accept_loop(acceptor), asio::detached);
    log::info("metrics", "serving /metrics and /healthz on " + listen.to_string() + " (" + where + ")",
              {{"port", static_cast<std::int64_t>(port)}});
    return std::unique_ptr<metrics_server>(new metrics_server(std::move(d)));
}

void metrics_server::stop()
{
    if (!impl_ || impl_->stopped)
        return;
    impl_->stopped = true;
    boost::system::error_code ec;
    for (auto& acceptor : impl_->acceptors)
        acceptor.close(ec);
    for (auto* s : impl_->open)
        s->close();
}

unsigned short metrics_server::port() const
{
    boost::system::error_code ec;
    return impl_->acceptors.front().local_endpoint(ec).port();
}

} // namespace syncd
