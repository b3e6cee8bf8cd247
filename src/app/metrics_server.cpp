#include "app/metrics_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <set>

namespace syncd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct metrics_server::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, const metrics& m) : acceptor(ex), m(m) {}
    tcp::acceptor acceptor;
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

    asio::awaitable<void> accept_loop()
    {
        auto self = shared_from_this();
        while (!stopped) {
            boost::system::error_code ec;
            auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                break;
            asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
        }
    }
};

metrics_server::metrics_server(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
metrics_server::~metrics_server() { stop(); }

std::unique_ptr<metrics_server> metrics_server::start(asio::any_io_executor ex, const std::string& listen,
                                                      const metrics& m, std::string& why)
{
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        why = "metrics_listen must be host:port, got '" + listen + "'";
        return nullptr;
    }
    auto host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    const auto p = std::string_view(listen).substr(colon + 1);
    if (std::from_chars(p.data(), p.data() + p.size(), port).ec != std::errc() || port > 65535) {
        why = "metrics_listen has a bad port: '" + listen + "'";
        return nullptr;
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) {
        why = "metrics_listen needs an IP address, got '" + host + "'";
        return nullptr;
    }
    auto d = std::make_shared<impl>(ex, m);
    tcp::endpoint ep(address, static_cast<unsigned short>(port));
    d->acceptor.open(ep.protocol(), ec);
    if (!ec)
        d->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        d->acceptor.bind(ep, ec);
    if (!ec)
        d->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        why = "cannot listen on " + listen + " for metrics: " + ec.message();
        return nullptr;
    }
    asio::co_spawn(ex, d->accept_loop(), asio::detached);
    return std::unique_ptr<metrics_server>(new metrics_server(std::move(d)));
}

void metrics_server::stop()
{
    if (!impl_ || impl_->stopped)
        return;
    impl_->stopped = true;
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    for (auto* s : impl_->open)
        s->close();
}

unsigned short metrics_server::port() const
{
    boost::system::error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

} // namespace syncd
