#include "protocol/s3_client.hpp"

#include "core/byte_budget.hpp"
#include "core/log.hpp"
#include "protocol/etag.hpp"

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
    http::file_range file;                                    // the body instead, when file.fd >= 0
    std::string what;                                         // "PUT run1/a.txt", for messages
    bool error_in_ok = false;  // a 2xx answer may still carry an <Error> (CompleteMultipartUpload)
    bool unlimited = false;    // not held back by max_in_flight (aborts during shutdown)
    std::function<bool()> still_wanted; // asked before a retry: false = do not send it again
};

using query_list = std::vector<std::pair<std::string, std::string>>;

// What the listings have in common: their entries, and the query that asks for the next page.
std::vector<object_info>& entries(list_page& p) { return p.objects; }
std::vector<multipart_upload_info>& entries(multipart_uploads_page& p) { return p.uploads; }
std::vector<part_info>& entries(parts_page& p) { return p.parts; }

query_list continuation(const list_page& p) { return {{"continuation-token", p.next_continuation_token}}; }
query_list continuation(const multipart_uploads_page& p)
{
    return {{"key-marker", p.next_key_marker}, {"upload-id-marker", p.next_upload_id_marker}};
}
query_list continuation(const parts_page& p) { return {{"part-number-marker", p.next_part_number_marker}}; }

template <class Page>
using entries_of = std::remove_reference_t<decltype(entries(std::declval<Page&>()))>;

// x-amz-meta-mtime: seconds since the epoch with nanoseconds, "1732476904.123456789".
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

} // namespace

struct client::impl {
    client_settings s;
    std::unique_ptr<http::client> http;
    request_counts counts;
    std::mt19937_64 rng{std::random_device{}()};
    std::chrono::seconds clock_offset{0};     // server minus local, learnt from skew errors
    steady_clock::time_point throttle_until;  // shared by every request: throttling slows all
    std::optional<byte_budget> slots;         // max_in_flight, one unit per request on the wire

    asio::awaitable<void> sleep_until(steady_clock::time_point t)
    {
        if (t <= steady_clock::now())
            co_return;
        asio::steady_timer timer(co_await asio::this_coro::executor, t);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    // Signing inputs that do not change between requests; build() only sets the time.
    sigv4::params signing;

    http::request build(const operation& op)
    {
        sigv4::request sr;
        sr.method = op.method;
        sr.path = s.addr.path_for(op.key);
        sr.query = op.query;
        sr.payload_hash = op.body.empty() && op.file.length == 0 ? empty_sha256 : "UNSIGNED-PAYLOAD";
        sr.headers.reserve(op.headers.size() + 5);
        sr.headers = op.headers;
        sr.headers.emplace_back("x-amz-content-sha256", sr.payload_hash);
        sr.headers.emplace_back("host", s.addr.ep.host_header());

        signing.time = std::chrono::system_clock::now() + clock_offset;
        auto added = sigv4::sign(sr, signing);

        // The signed headers become the request's; the HTTP client writes Host itself.
        http::request req;
        req.method = op.method;
        req.target = request_target(sr.path, op.query);
        req.headers = std::move(sr.headers);
        req.headers.pop_back();
        for (auto& h : added)
            req.headers.push_back(std::move(h));
        req.body = op.body;
        req.file = op.file;
        return req;
    }

    static error s3_failure(const operation& op, const http::response& r)
    {
        const auto body = parse_error(r.body);
        auto e = body ? to_error(*body, r.status, op.what) : make_error(classify("", r.status), op.what);
        e.http_status = r.status;
        if (auto id = r.header("x-amz-request-id"); !id.empty())
            e.request_id = std::move(id);
        if (e.s3_code.empty() && r.status == 404 && op.key.empty()) {
            e.s3_code = "NoSuchBucket";
            e.code = make_error_code(errc::no_such_bucket);
        }
        return e;
    }

    asio::awaitable<result<http::response>> send(const http::request& req, bool unlimited)
    {
        const bool limited = slots && !unlimited;
        if (limited)
            co_await slots->acquire(1);
        auto res = co_await http->send(req);
        if (limited)
            slots->release(1);
        co_return res;
    }

    asio::awaitable<result<http::response>> execute(const operation& op)
    {
        for (int attempt = 1;; ++attempt) {
            co_await sleep_until(throttle_until);
            const auto req = build(op);
            auto res = co_await send(req, op.unlimited);
            error err;
            std::string date;
            if (!res) {
                err = res.error();
                err.message = op.what + ": " + err.message;
            } else if (res->status >= 200 && res->status < 300 &&
                       !(op.error_in_ok && parse_error(res->body))) {
                co_return std::move(*res);
            } else {
                err = s3_failure(op, *res);
                date = res->header("date");
            }

            const auto kind = retry::classify(err.code);
            if (!s.policy.should_retry(err.code, attempt) || (op.still_wanted && !op.still_wanted()))
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
                throttle_until = std::max(throttle_until, steady_clock::now() + delay);
            }
            log::debug("retry", err.to_string() + "; retrying in " + std::to_string(delay.count()) + " ms",
                       {{"attempt", static_cast<std::int64_t>(attempt)}});
            co_await sleep_until(steady_clock::now() + delay);
        }
    }

    // Sends op page after page and hands each page's entries to sink as it arrives, until the
    // last page or until sink answers false.
    template <class Page>
    asio::awaitable<result<void>> list_pages(operation op, result<Page> (*parse)(std::string_view),
                                             const std::function<bool(entries_of<Page>&)>& sink)
    {
        const auto first = op.query;
        for (;;) {
            ++counts.list;
            auto res = co_await execute(op);
            if (!res)
                co_return res.error();
            auto page = in_context(op, parse(res->body));
            if (!page)
                co_return page.error();
            if (!sink(entries(*page)) || !page->truncated)
                co_return result<void>();
            op.query = first;
            for (auto& q : continuation(*page))
                op.query.push_back(std::move(q));
        }
    }

    // The same, with the entries of every page gathered.
    template <class Page>
    asio::awaitable<result<entries_of<Page>>> list_all(operation op, result<Page> (*parse)(std::string_view))
    {
        entries_of<Page> all;
        const std::function<bool(entries_of<Page>&)> gather = [&all](entries_of<Page>& got) {
            all.insert(all.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
            return true;
        };
        auto done = co_await list_pages(std::move(op), parse, gather);
        if (!done)
            co_return done.error();
        co_return all;
    }

    // Headers every new object carries: its mtime, storage class and encryption settings.
    void add_object_headers(operation& op, std::int64_t mtime_ns) const
    {
        op.headers.emplace_back("x-amz-meta-mtime", format_mtime(mtime_ns));
        if (!s.storage_class.empty())
            op.headers.emplace_back("x-amz-storage-class", s.storage_class);
        if (!s.sse.empty())
            op.headers.emplace_back("x-amz-server-side-encryption", s.sse);
        if (!s.sse_kms_key_id.empty())
            op.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", s.sse_kms_key_id);
    }

    // What the server's answer to a write proves (etag.hpp): its ETag must equal the one computed
    // locally, unless SSE-KMS/DSSE/SSE-C (answered, or sse = aws:kms configured) makes ETags
    // other than MD5s; then the server's Content-MD5 check is the evidence. A missing or
    // malformed ETag without such a header proves nothing: it fails like a mismatch
    // (errc::integrity_mismatch), so the key is recorded as suspect and uploaded again next
    // cycle (docs/markers.md). res is the answer whose headers say how the object is encrypted;
    // etag is its ETag or, for RGW's completion without one, the listed ETag (checked the same).
    // whole_object_ok (completions only): a plain MD5 where the multipart ETag was expected is
    // returned with put_result::whole_object_md5 set, for the caller to compare with the whole
    // file's MD5; otherwise it fails like any ETag that proves nothing.
    result<put_result> checked_etag(const operation& op, const http::response& res, std::string etag,
                                    const std::string& expected, bool whole_object_ok = false) const
    {
        const auto algorithm = res.header("x-amz-server-side-encryption");
        const auto customer = res.header("x-amz-server-side-encryption-customer-algorithm");
        const sse_headers sse{algorithm, customer, s.sse};
        const auto ev = classify_etag(etag, expected, sse);
        if (ev == etag_evidence::whole_object_md5 && whole_object_ok)
            return put_result{std::move(etag), true};
        // Fail closed: anything but equal or not comparable (a whole-object MD5 included, which
        // proves nothing until compared with the whole file) is no evidence.
        if (ev != etag_evidence::equal && ev != etag_evidence::not_comparable) {
            // Both values go into the message: error::to_string shows s3_message only with an S3
            // code, and this failure has none.
            auto e = make_error(errc::integrity_mismatch, op.what + ": " + describe_etag_evidence(ev, etag, expected));
            e.request_id = res.header("x-amz-request-id");
            return e;
        }
        return put_result{std::move(etag)};
    }

    static operation make_op(std::string method, std::string key, query_list query, std::string what)
    {
        operation op;
        op.method = std::move(method);
        op.key = std::move(key);
        op.query = std::move(query);
        op.what = std::move(what);
        return op;
    }

    // "s3://bucket/key", for messages.
    std::string where(const std::string& key) const { return "s3://" + s.addr.bucket + "/" + key; }

    // ListObjectsV2 of everything under prefix: list_objects narrows it to a range, listed_etag
    // to one key.
    operation list_objects_op(const std::string& prefix) const
    {
        return make_op("GET", "", {{"list-type", "2"}, {"encoding-type", "url"}, {"prefix", prefix}},
                       "listing " + where(prefix));
    }

    // The ETag the listing shows for exactly key ("" when no such object is listed): where a
    // completed multipart upload is confirmed when its own answer does not say.
    asio::awaitable<result<std::string>> listed_etag(const std::string& key)
    {
        auto listed = co_await list_all(list_objects_op(key), &parse_list_objects_v2);
        if (!listed)
            co_return listed.error();
        for (auto& o : *listed)
            if (o.key == key)
                co_return std::move(o.etag);
        co_return std::string();
    }

    // A response that could not be understood, said in the words of the operation.
    template <class T>
    static result<T> in_context(const operation& op, result<T> r)
    {
        if (!r) {
            auto e = r.error();
            e.message = op.what + ": " + e.message;
            return e;
        }
        return r;
    }

    // An upload's query: more (partNumber), then uploadId.
    static query_list upload_query(const std::string& upload_id, query_list more = {})
    {
        more.emplace_back("uploadId", upload_id);
        return more;
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
    if (settings.max_in_flight > 0)
        p->slots.emplace(settings.max_in_flight);
    p->s = std::move(settings);
    p->signing.creds = p->s.creds;
    p->signing.region = p->s.region;
    return std::unique_ptr<client>(new client(std::move(p)));
}

void client::shutdown() { impl_->http->shutdown(); }

const request_counts& client::counts() const { return impl_->counts; }
const client_settings& client::settings() const { return impl_->s; }

asio::awaitable<result<void>> client::list_objects(std::string prefix, page_sink on_page, key_range range)
{
    auto op = impl_->list_objects_op(prefix);
    if (!range.after.empty())
        op.query.emplace_back("start-after", range.after);
    // A page may run past the range's last key: those entries belong to the next range, and the
    // listing stops there.
    const std::function<bool(std::vector<object_info>&)> sink = [&](std::vector<object_info>& page) {
        const auto beyond = std::remove_if(page.begin(), page.end(),
                                           [&](const object_info& o) { return !range.contains(o.key); });
        const bool more = beyond == page.end();
        page.erase(beyond, page.end());
        on_page(page);
        return more;
    };
    auto done = co_await impl_->list_pages(op, &parse_list_objects_v2, sink);
    co_return done;
}

asio::awaitable<result<put_result>> client::put_object(std::string key, std::string_view body,
                                                       put_options opt)
{
    auto op = impl::make_op("PUT", key, {}, "uploading " + impl_->where(key));
    op.body = body;
    op.headers.emplace_back("content-md5", crypto::base64(opt.md5));
    impl_->add_object_headers(op, opt.mtime_ns);
    ++impl_->counts.put;
    auto res = co_await impl_->execute(op);
    if (!res)
        co_return res.error();
    const auto expected = crypto::hex(opt.md5);
    co_return impl_->checked_etag(op, *res, unquote_etag(res->header("etag")), expected);
}

asio::awaitable<result<client::object>> client::get_object(std::string key)
{
    const auto op = impl::make_op("GET", key, {}, "reading " + impl_->where(key));
    ++impl_->counts.get;
    auto res = co_await impl_->execute(op);
    if (!res)
        co_return res.error();
    co_return object{std::move(res->body), unquote_etag(res->header("etag"))};
}

asio::awaitable<result<std::string>> client::create_multipart_upload(std::string key, std::int64_t mtime_ns)
{
    auto op = impl::make_op("POST", key, {{"uploads", ""}}, "starting the multipart upload of " + impl_->where(key));
    impl_->add_object_headers(op, mtime_ns);
    auto res = co_await impl_->execute(op);
    if (!res)
        co_return res.error();
    co_return impl::in_context(op, parse_initiate_multipart_upload(res->body));
}

asio::awaitable<result<put_result>> client::upload_part(std::string key, std::string upload_id,
                                                        std::uint32_t number, http::file_range part,
                                                        crypto::md5_digest md5, std::function<bool()> still_wanted)
{
    auto op = impl::make_op("PUT", key, impl::upload_query(upload_id, {{"partNumber", std::to_string(number)}}),
                            "uploading part " + std::to_string(number) + " of " + impl_->where(key));
    op.file = part;
    op.still_wanted = std::move(still_wanted);
    op.headers.emplace_back("content-md5", crypto::base64(md5));
    ++impl_->counts.put;
    auto res = co_await impl_->execute(op);
    if (!res)
        co_return res.error();
    const auto expected = crypto::hex(md5);
    co_return impl_->checked_etag(op, *res, unquote_etag(res->header("etag")), expected);
}

asio::awaitable<result<put_result>> client::complete_multipart_upload(std::string key, std::string upload_id,
                                                                      std::vector<part_info> parts,
                                                                      std::string expected_etag)
{
    const auto body = complete_multipart_body(parts);
    auto op = impl::make_op("POST", key, impl::upload_query(upload_id),
                            "completing the multipart upload of " + impl_->where(key));
    op.body = body;
    op.headers.emplace_back("content-md5", crypto::base64(crypto::md5(body)));
    op.error_in_ok = true;
    auto res = co_await impl_->execute(op);
    if (!res && res.error().code == make_error_code(errc::no_such_upload)) {
        // A retry after an answer lost on the way finds the upload already completed: the listed
        // object is checked like the answer would have been. An object with another ETag (a
        // plain MD5 goes to the whole-file check) is an integrity failure, not a missing upload:
        // as no_such_upload it was not recorded suspect, and the next cycle took the object of
        // the right size as present.
        auto listed = co_await impl_->listed_etag(key);
        if (listed && !listed->empty())
            co_return impl_->checked_etag(op, http::response{}, std::move(*listed), expected_etag, true);
    }
    if (!res)
        co_return res.error();
    auto etag = impl::in_context(op, parse_complete_multipart_upload(res->body));
    if (!etag) {
        // A 200 whose body cannot be read (no <ETag> element at all, say) still completed the
        // upload: failing here left an object of the right size that the next cycle took as
        // verified without any ETag. The listing is asked instead, as for RGW's empty ETag.
        log::debug("multipart", etag.error().to_string() + "; looking the object up in the listing");
        etag = std::string();
    }
    if (etag->empty()) {
        // Completed, but the answer left the ETag out (Ceph RGW 16): the listing has it, and it
        // is checked like any other.
        auto listed = co_await impl_->listed_etag(key);
        if (!listed)
            co_return listed.error();
        if (listed->empty()) {
            auto e = make_error(errc::http_protocol, op.what);
            e.s3_message = "the upload was completed without an ETag and the object is not listed";
            co_return e;
        }
        *etag = std::move(*listed);
    }
    co_return impl_->checked_etag(op, *res, std::move(*etag), expected_etag, true);
}

asio::awaitable<result<void>> client::abort_multipart_upload(std::string key, std::string upload_id)
{
    auto op = impl::make_op("DELETE", key, impl::upload_query(upload_id),
                            "aborting the multipart upload " + upload_id + " of " + impl_->where(key));
    op.unlimited = true; // must not wait for the parts in flight: on shutdown they may outlast the grace period
    auto res = co_await impl_->execute(op);
    if (!res && res.error().code != make_error_code(errc::no_such_upload))
        co_return res.error();
    co_return result<void>();
}

asio::awaitable<result<std::vector<multipart_upload_info>>> client::list_multipart_uploads(std::string prefix)
{
    const auto op = impl::make_op("GET", "", {{"uploads", ""}, {"encoding-type", "url"}, {"prefix", prefix}},
                                  "listing incomplete multipart uploads under " + impl_->where(prefix));
    auto all = co_await impl_->list_all(op, &parse_list_multipart_uploads);
    co_return all;
}

asio::awaitable<result<std::vector<part_info>>> client::list_parts(std::string key, std::string upload_id)
{
    const auto op = impl::make_op("GET", key, impl::upload_query(upload_id),
                                  "listing the parts of upload " + upload_id + " of " + impl_->where(key));
    auto all = co_await impl_->list_all(op, &parse_list_parts);
    co_return all;
}

} // namespace syncd::s3
