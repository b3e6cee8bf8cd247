#include "engine/upload.hpp"

#include "core/log.hpp"
#include "engine/parallel.hpp"
#include "protocol/multipart.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace syncd {

namespace asio = boost::asio;

namespace {

constexpr std::uint64_t hash_piece = 256u << 10; // a multipart worker's read buffer: fits in L2

// n bytes of the budget, given back when it goes out of scope.
struct budget_hold {
    byte_budget* budget;
    std::uint64_t bytes;
    budget_hold(byte_budget* b, std::uint64_t n) : budget(b), bytes(n) {}
    budget_hold(const budget_hold&) = delete;
    budget_hold& operator=(const budget_hold&) = delete;
    ~budget_hold() { budget->release(bytes); }
};

std::string s3_path(const s3::client& s3, const std::string& key)
{
    return "s3://" + s3.settings().addr.bucket + "/" + key;
}

// Up to multipart_threshold: the whole file in memory, one PUT.
asio::awaitable<upload_outcome> put_whole(s3::client& s3, const upload_job& job)
{
    upload_outcome out;
    co_await job.budget->acquire(job.file.size);
    const budget_hold hold{job.budget, job.file.size};
    auto contents = read_stable(job.path, job.file, job.follow_symlinks);
    if (contents.outcome != read_outcome::ok) {
        out.local = contents.outcome;
        out.detail = std::move(contents.detail);
        co_return out;
    }
    const s3::put_options put{crypto::md5(contents.data), job.file.mtime_ns};
    auto res = co_await s3.put_object(job.key, contents.data, put);
    if (!res)
        out.failure = res.error();
    else
        out.etag = std::move(res->etag);
    co_return out;
}

// One multipart upload of one file. Parts are claimed in order by up to `concurrency` part
// workers; each hashes its part through a small buffer (pread), checks the file has not changed
// (fstat), and sends the part from the file. The first problem stops every worker from claiming
// more; once the parts in flight are done the upload is aborted.
class multipart_session {
public:
    multipart_session(s3::client& s3, const upload_job& job, const multipart::part_plan& plan, stable_file& file,
                      const asio::any_io_executor& ex)
        : s3_(s3), job_(job), plan_(plan), file_(file), digests_(plan.count), etags_(plan.count),
          wake_(ex, asio::steady_timer::time_point::max())
    {
    }

    asio::awaitable<upload_outcome> run()
    {
        log::debug("multipart", "uploading " + log::quote(job_.key) + " in " + std::to_string(plan_.count) +
                                    " parts of " + log::human_bytes(plan_.part_size),
                   {{"key", job_.key}, {"parts", std::uint64_t{plan_.count}}, {"part_size", plan_.part_size}});
        co_await find_interrupted();
        if (stop_ == stop::none && upload_id_.empty())
            co_await create();
        if (stop_ == stop::none)
            co_await send_parts();
        if (stop_ == stop::stale) {
            // The interrupted upload holds other bytes than the file has now: start over.
            log::info("multipart", "the interrupted upload of " + log::quote(job_.key) +
                                       " holds parts that differ from the file; starting a new upload",
                      {{"key", job_.key}});
            const auto id = std::exchange(upload_id_, {});
            const std::string why = "it holds parts that differ from the file"; // named: GCC 12
            co_await abort(id, why);
            stop_ = stop::none;
            uploaded_.clear();
            resumed_ = 0;
            co_await create();
            if (stop_ == stop::none)
                co_await send_parts();
        }
        if (stop_ == stop::none && !file_.unchanged()) // every part is read: the last check
            stop_ = stop::local;
        if (stop_ == stop::none)
            co_await complete();
        if (!upload_id_.empty()) {
            const auto id = std::exchange(upload_id_, {});
            const auto why = why_stopped();
            co_await abort(id, why);
        }
        co_return outcome();
    }

private:
    enum class stop { none, local, failed, shutdown, stale };

    // The first reason to stop wins; a shutdown is noticed between parts.
    bool stopped()
    {
        if (stop_ == stop::none && job_.stopping && *job_.stopping)
            stop_ = stop::shutdown;
        return stop_ != stop::none;
    }

    // A part is left to claim and nothing has stopped the upload.
    bool claimable() { return next_ <= plan_.count && !stopped(); }

    void halt(stop why)
    {
        if (stop_ == stop::none)
            stop_ = why;
    }

    void fail(const error& e)
    {
        if (stop_ == stop::none) {
            stop_ = stop::failed;
            failure_ = e;
        }
    }

    std::string why_stopped() const
    {
        switch (stop_) {
        case stop::local: return "the file " + file_.detail();
        case stop::failed: return failure_.to_string();
        case stop::shutdown: return "shutting down";
        case stop::stale: return "it holds parts that differ from the file";
        case stop::none: break;
        }
        return "not completed";
    }

    // Uploads of this key left by an interrupted run: the first one whose parts fit the plan is
    // continued, any other is aborted. Listing problems only cost the chance to resume.
    asio::awaitable<void> find_interrupted()
    {
        const auto key = job_.key;
        auto uploads = co_await s3_.list_multipart_uploads(key);
        if (!uploads) {
            if (uploads.error().code == make_error_code(errc::cancelled)) {
                fail(uploads.error());
                co_return;
            }
            log::warn("multipart", "cannot list incomplete multipart uploads of " + log::quote(key) + " (" +
                                       uploads.error().to_string() + "); starting a new upload",
                      {{"key", key}});
            co_return;
        }
        // With SSE-KMS part ETags are not MD5s, so parts cannot be checked against the file.
        const bool resumable = s3_.settings().sse != "aws:kms";
        for (const auto& u : *uploads) {
            if (u.key != key)
                continue;
            if (resumable && upload_id_.empty()) {
                const auto id = u.upload_id;
                auto parts = co_await s3_.list_parts(key, id);
                if (!parts)
                    log::warn("multipart", "cannot list the parts of the interrupted upload of " + log::quote(key) +
                                               " (" + parts.error().to_string() + "); it is not resumed",
                              {{"key", key}, {"upload_id", id}});
                auto fits = parts ? multipart::uploaded_parts(plan_, *parts) : std::nullopt;
                if (fits) {
                    upload_id_ = u.upload_id;
                    uploaded_ = std::move(*fits);
                    const auto have = std::count_if(uploaded_.begin(), uploaded_.end(),
                                                    [](const std::string& e) { return !e.empty(); });
                    log::info("multipart_resume",
                              "resuming the interrupted multipart upload of " + log::quote(key) + ": " +
                                  std::to_string(have) + " of " + std::to_string(plan_.count) +
                                  " parts are there already (each is checked against the file)",
                              {{"key", key}, {"upload_id", u.upload_id}, {"parts_present", static_cast<std::int64_t>(have)},
                               {"parts", std::uint64_t{plan_.count}}});
                    continue;
                }
            }
            const auto id = u.upload_id;
            const std::string why = resumable ? "left by an interrupted run; its parts do not fit the file as it is now"
                                              : "left by an interrupted run; with SSE-KMS its parts cannot be checked";
            co_await abort(id, why);
        }
    }

    asio::awaitable<void> create()
    {
        const auto key = job_.key;
        auto id = co_await s3_.create_multipart_upload(key, job_.file.mtime_ns);
        if (!id) {
            fail(id.error());
            co_return;
        }
        upload_id_ = std::move(*id);
    }

    // The part workers, and beside them a watch for shutdown, woken by the cycle's stop signal (or
    // by the last worker) rather than polling.
    asio::awaitable<void> send_parts()
    {
        next_ = 1;
        workers_ = static_cast<unsigned>(std::min<std::uint64_t>(std::max<std::uint64_t>(1, job_.part_slots->limit()), plan_.count));
        const stop_signal::registration on_stop(job_.stop_wakeups, wake_);
        bool watch = true;
        co_await run_parallel(workers_ + 1, [this, &watch] {
            return std::exchange(watch, false) ? watch_shutdown() : part_worker();
        });
    }

    // A part is hashed through a small buffer that stays in the cache, then sent from the file
    // (sendfile over plain TCP): no part is ever held in memory whole. Before this, a 16 MiB
    // buffer per worker cost page zeroing and a second copy (docs/performance.md).
    //
    // Each part first takes one of the part slots shared by all files, so that parts in flight
    // stay within part_concurrency however many large files go up at once. The file that started
    // first gets the slots first (its turn), so large files go up one after another, each
    // completed as early as it can be: a shutdown then aborts one upload rather than all of
    // them, and a server's completion work overlaps the next file's parts. Only with the slot
    // does the part take its buffer from the memory budget: bytes held by parts are at most
    // part_concurrency buffers (docs/multipart.md). A worker that gets a slot after the last
    // part was claimed gives it back at once.
    asio::awaitable<void> part_worker()
    {
        const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(hash_piece, plan_.part_size));
        while (claimable()) {
            co_await job_.part_slots->acquire(1, job_.turn);
            const budget_hold slot{job_.part_slots, 1};
            if (!claimable()) // claimed by the others, or stopped, while this worker waited
                break;
            const auto number = next_++;
            co_await job_.budget->acquire(piece);
            const budget_hold hold{job_.budget, piece};
            const auto buffer = std::make_unique_for_overwrite<char[]>(piece);
            co_await send_part(number, std::span<char>(buffer.get(), piece));
        }
        if (--workers_ == 0)
            wake_.cancel(); // the watch has nothing left to watch
    }

    // On shutdown the upload is aborted at once, within the grace period, rather than after the
    // parts in flight: on a slow link they may outlast it. Parts that still land are freed by the
    // abort that follows them (S3 may need two).
    asio::awaitable<void> watch_shutdown()
    {
        while (workers_ > 0) {
            if (stopped()) {
                if (stop_ == stop::shutdown) {
                    // upload_id_ stays: it is aborted again once the parts in flight are done.
                    const auto id = upload_id_;
                    const std::string why = "shutting down";
                    co_await abort(id, why);
                }
                co_return;
            }
            boost::system::error_code ec;
            co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    // MD5 of the file's bytes in `part` as it holds them now, read through buf; nullopt when the
    // file cannot be read or is no longer the one the walk saw (then outcome() says why).
    std::optional<crypto::md5_digest> hash_range(const http::file_range& part, std::span<char> buf)
    {
        crypto::md5_hasher md5;
        for (std::uint64_t done = 0; done < part.length;) {
            const auto piece = buf.first(static_cast<std::size_t>(std::min<std::uint64_t>(part.length - done, buf.size())));
            if (!file_.read_at(part.offset + done, piece))
                return std::nullopt;
            md5.update(std::string_view(piece.data(), piece.size()));
            done += piece.size();
        }
        if (!file_.unchanged())
            return std::nullopt;
        return md5.finish();
    }

    // The range hashed is the range sent: one file_range for both.
    asio::awaitable<void> send_part(std::uint32_t number, std::span<char> buf)
    {
        const http::file_range range{file_.fd(), plan_.offset(number), plan_.length(number)};
        const auto md5 = hash_range(range, buf);
        if (!md5) {
            halt(stop::local);
            co_return;
        }
        digests_[number - 1] = *md5;
        if (!uploaded_.empty() && !uploaded_[number].empty()) {
            if (uploaded_[number] != crypto::hex(*md5)) {
                halt(stop::stale);
                co_return;
            }
            etags_[number - 1] = uploaded_[number];
            ++resumed_;
            co_return;
        }
        const auto key = job_.key;
        const auto id = upload_id_;
        // A failed part is not sent again once the file has changed (the server's BadDigest would
        // only repeat) or the upload is stopping (it is about to be aborted).
        auto res = co_await s3_.upload_part(key, id, number, range, *md5,
                                            [this] { return !stopped() && file_.unchanged(); });
        if (!res) {
            // The part is read again as it is sent: a file changed since it was hashed fails the
            // server's Content-MD5 check or the ETag check. Then the change is what to report.
            if (!file_.unchanged())
                halt(stop::local);
            else
                fail(res.error());
            co_return;
        }
        etags_[number - 1] = std::move(res->etag);
    }

    asio::awaitable<void> complete()
    {
        std::vector<s3::part_info> parts;
        parts.reserve(plan_.count);
        for (std::uint32_t n = 1; n <= plan_.count; ++n)
            parts.push_back({n, etags_[n - 1], plan_.length(n)});
        const auto expected = multipart::multipart_etag(digests_);
        const auto key = job_.key;
        const auto id = upload_id_;
        auto res = co_await s3_.complete_multipart_upload(key, id, parts, expected);
        if (!res) {
            fail(res.error());
            co_return;
        }
        etag_ = std::move(res->etag);
        upload_id_.clear(); // completed: nothing to abort
    }

    // Aborts upload id. Refused only when the connection pool is already shut down or the server
    // is unreachable; then the next run finds the upload and resumes or aborts it.
    asio::awaitable<void> abort(std::string id, std::string why)
    {
        const auto key = job_.key;
        auto res = co_await s3_.abort_multipart_upload(key, id);
        if (res && id == aborted_) {
            log::debug("multipart_abort", "aborted the multipart upload of " + log::quote(key) + " again",
                       {{"key", key}, {"upload_id", id}});
        } else if (res) {
            aborted_ = id;
            log::info("multipart_abort", "aborted the multipart upload of " + log::quote(key) + " (" + why +
                                             "); none of its parts are kept",
                      {{"key", key}, {"upload_id", id}});
        } else {
            log::warn("multipart_abort", "could not abort the multipart upload " + id + " of " + log::quote(key) +
                                             " (" + res.error().to_string() +
                                             "); the next run resumes or aborts it",
                      {{"key", key}, {"upload_id", id}});
        }
    }

    upload_outcome outcome() const
    {
        upload_outcome out;
        out.parts = plan_.count;
        out.parts_resumed = resumed_;
        switch (stop_) {
        case stop::none:
            out.etag = etag_;
            break;
        case stop::local:
            out.local = file_.outcome();
            out.detail = file_.detail();
            break;
        case stop::failed:
            out.failure = failure_;
            break;
        case stop::shutdown:
        case stop::stale:
            out.failure = make_error(errc::cancelled, "uploading " + s3_path(s3_, job_.key) + ": interrupted");
            break;
        }
        return out;
    }

    s3::client& s3_;
    const upload_job& job_;
    const multipart::part_plan& plan_;
    stable_file& file_;
    std::vector<crypto::md5_digest> digests_; // per part, as read
    std::vector<std::string> etags_;          // per part, as S3 has it
    std::vector<std::string> uploaded_;       // resuming: ETag per part number already there ("" = missing)
    std::string upload_id_;                   // the upload to complete or abort; "" = none
    std::string etag_;
    std::uint32_t next_ = 1;                  // the next part to claim
    unsigned workers_ = 0;                    // part workers still running
    asio::steady_timer wake_;                 // never expires: cancelled to wake the watch
    std::string aborted_;                     // the upload aborted last
    std::uint32_t resumed_ = 0;
    stop stop_ = stop::none;
    error failure_;
};

asio::awaitable<upload_outcome> put_parts(s3::client& s3, const upload_job& job)
{
    upload_outcome out;
    auto plan = multipart::plan_parts(job.file.size, job.part_size);
    if (!plan) {
        auto e = plan.error();
        e.message = "uploading " + s3_path(s3, job.key) + ": " + e.message;
        out.failure = std::move(e);
        co_return out;
    }
    stable_file file(job.path, job.file, job.follow_symlinks);
    if (file.outcome() != read_outcome::ok) {
        out.local = file.outcome();
        out.detail = file.detail();
        co_return out;
    }
    multipart_session session(s3, job, *plan, file, co_await asio::this_coro::executor);
    auto done = co_await session.run();
    co_return done;
}

} // namespace

asio::awaitable<upload_outcome> upload_file(s3::client& s3, upload_job job)
{
    if (job.file.size > job.multipart_threshold) {
        auto out = co_await put_parts(s3, job);
        co_return out;
    }
    auto out = co_await put_whole(s3, job);
    co_return out;
}

} // namespace syncd
