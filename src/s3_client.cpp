#include "syncd/s3_client.hpp"

#include "syncd/log.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

namespace syncd::s3 {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

const std::string empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct operation {
    std::string method;
    std::string key;                                          // "" = the bucket
    std::vector<std::pair<std::string, std::string>> query;
    http::header_list headers;                                // besides the signing ones
    std::string_view body;
    std::string what;                                         // "PUT run1/a.txt", for messages
};

} // namespace

struct client::impl {
    client_settings s;
    std::unique_ptr<http::client> http;
    request_counts counts;
    std::mt19937_64 rng{std::random_device{}()};
    std::chrono::seconds clock_offset{0};     // server minus local, learnt from skew errors
    steady_clock::time_point throttle_until;  // shared by every request: throttling slows all

    asio::awaitable<void> sleep_until(steady_clock::time_point t)
    {
        if (t <= steady_clock::now())
            co_return;
        asio::steady_timer timer(co_await asio::this_coro::executor, t);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    http::request build(const operation& op)
    {
        const auto path = s.addr.path_for(op.key);
        sigv4::request sr;
        sr.method = op.method;
        sr.path = path;
        sr.query = op.query;
        sr.payload_hash = op.body.empty() ? empty_sha256 : "UNSIGNED-PAYLOAD";
        sr.headers = op.headers;
        sr.headers.emplace_back("host", s.addr.ep.host_header());
        sr.headers.emplace_back("x-amz-content-sha256", sr.payload_hash);

        sigv4::params p;
        p.creds = s.creds;
        p.region = s.region;
        p.time = std::chrono::system_clock::now() + clock_offset;

        http::request req;
        req.method = op.method;
        req.target = request_target(path, op.query);
        req.headers = op.headers;
        req.headers.emplace_back("x-amz-content-sha256", sr.payload_hash);
        for (auto& h : sigv4::sign(sr, p))
            req.headers.push_back(std::move(h));
        req.body = op.body;
        return req;
    }

    static error s3_failure(const operation& op, const http::response& r)
    {
        error e;
        e.message = op.what;
        e.http_status = r.status;
        e.request_id = r.header("x-amz-request-id");
        if (auto body = parse_error(r.body)) {
            e.s3_code = body->code;
            e.s3_message = body->message;
            if (e.request_id.empty())
                e.request_id = body->request_id;
        }
        if (e.s3_code.empty() && r.status == 404 && op.key.empty())
            e.s3_code = "NoSuchBucket";
        e.code = make_error_code(classify(e.s3_code, r.status));
        return e;
    }

    asio::awaitable<result<http::response>> execute(const operation& op)
    {
        for (int attempt = 1;; ++attempt) {
            co_await sleep_until(throttle_until);
            const auto req = build(op);
            auto res = co_await http->send(req);
            error err;
            std::string date;
            if (!res) {
                err = res.error();
                err.message = op.what + ": " + err.message;
            } else if (res->status >= 200 && res->status < 300) {
                co_return std::move(*res);
            } else {
                err = s3_failure(op, *res);
                date = res->header("date");
            }

            const auto kind = retry::classify(err.code);
            if (!s.policy.should_retry(err.code, attempt))
                co_return err;
            ++counts.retries;
            auto delay = s.policy.backoff(attempt - 1, rng());
            if (kind == retry::kind::clock_skew) {
                if (auto off = retry::clock_offset(date, std::chrono::system_clock::now())) {
                    clock_offset = *off;
                    delay = std::chrono::milliseconds{0};
                }
                log::warn("clock_skew", "local clock is off by " + std::to_string(clock_offset.count()) +
                          " s from the server's; signing with the server's time");
            } else if (kind == retry::kind::throttle) {
                ++counts.throttled;
                throttle_until = std::max(throttle_until, steady_clock::now() + delay);
            }
            log::debug("retry", err.to_string() + "; retrying in " + std::to_string(delay.count()) + " ms",
                       {{"attempt", static_cast<std::int64_t>(attempt)}});
            co_await sleep_until(steady_clock::now() + delay);
        }
    }
};

client::client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
client::~client() = default;

result<std::unique_ptr<client>> client::create(asio::any_io_executor ex, client_settings settings)
{
    auto p = std::make_unique<impl>();
    auto http = http::client::create(ex, settings.addr.ep, settings.http);
    if (!http)
        return http.error();
    p->http = std::move(*http);
    p->s = std::move(settings);
    return std::unique_ptr<client>(new client(std::move(p)));
}

void client::shutdown() { impl_->http->shutdown(); }

const request_counts& client::counts() const { return impl_->counts; }
const client_settings& client::settings() const { return impl_->s; }

asio::awaitable<result<std::vector<object_info>>> client::list_objects(std::string prefix)
{
    std::vector<object_info> all;
    std::string token;
    do {
        operation op;
        op.method = "GET";
        op.query = {{"list-type", "2"}, {"encoding-type", "url"}, {"prefix", prefix}};
        if (!token.empty())
            op.query.emplace_back("continuation-token", token);
        op.what = "listing s3://" + impl_->s.addr.bucket + "/" + prefix;
        ++impl_->counts.list;
        auto res = co_await impl_->execute(op);
        if (!res)
            co_return res.error();
        auto page = parse_list_objects_v2(res->body);
        if (!page) {
            auto e = page.error();
            e.message = op.what + ": " + e.message;
            co_return e;
        }
        for (auto& o : page->objects)
            all.push_back(std::move(o));
        token = page->truncated ? page->next_continuation_token : std::string();
    } while (!token.empty());
    co_return all;
}

asio::awaitable<result<put_result>> client::put_object(std::string key, std::string_view body,
                                                       put_options opt)
{
    const auto& s = impl_->s;
    operation op;
    op.method = "PUT";
    op.key = key;
    op.body = body;
    op.what = "uploading s3://" + s.addr.bucket + "/" + key;
    op.headers.emplace_back("content-md5", crypto::base64(opt.md5));
    op.headers.emplace_back("x-amz-meta-mtime", format_mtime(opt.mtime_ns));
    if (!s.storage_class.empty())
        op.headers.emplace_back("x-amz-storage-class", s.storage_class);
    if (!s.sse.empty())
        op.headers.emplace_back("x-amz-server-side-encryption", s.sse);
    if (!s.sse_kms_key_id.empty())
        op.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", s.sse_kms_key_id);
    ++impl_->counts.put;
    auto res = co_await impl_->execute(op);
    if (!res)
        co_return res.error();
    put_result out;
    out.etag = unquote_etag(res->header("etag"));
    // A plain PUT's ETag is the MD5 of the body, except with SSE-KMS/SSE-C. When it has that form
    // it must match what we sent.
    const auto expected = crypto::hex(opt.md5);
    const bool md5_etag = out.etag.size() == 32 && s.sse != "aws:kms";
    if (md5_etag && out.etag != expected) {
        auto e = make_error(errc::integrity_mismatch, op.what);
        e.s3_message = "server ETag " + out.etag + " differs from the local MD5 " + expected;
        e.request_id = res->header("x-amz-request-id");
        co_return e;
    }
    co_return out;
}

asio::awaitable<result<client::object>> client::get_object(std::string key)
{
    operation op;
    op.method = "GET";
    op.key = key;
    op.what = "reading s3://" + impl_->s.addr.bucket + "/" + key;
    ++impl_->counts.get;
    auto res = co_await impl_->execute(op);
    if (!res)
        co_return res.error();
    co_return object{std::move(res->body), unquote_etag(res->header("etag"))};
}

std::string format_mtime(std::int64_t mtime_ns)
{
    char buf[40];
    const auto sec = mtime_ns / 1'000'000'000;
    auto frac = mtime_ns % 1'000'000'000;
    if (frac < 0)
        frac = -frac;
    std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(sec), static_cast<long long>(frac));
    return buf;
}

} // namespace syncd::s3
