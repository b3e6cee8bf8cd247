#include "engine/upload.hpp"

#include "core/log.hpp"
#include "engine/multipart_session.hpp"
#include "engine/parallel.hpp"
#include "protocol/multipart.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
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

// One multipart upload of one file, carried out for the state machine that makes its decisions
// (engine/multipart_session.hpp): the driver asks it for the next action, does the request,
// read or fstat the action names, and resumes it with what came of it. Parts are sent by up to
// part-slots' limit part workers; each hashes its part through a small buffer (pread), and
// sends the part from the file. Beside them a watch waits for a shutdown, to abort at once.
class multipart_driver {
public:
    multipart_driver(s3::client& s3, const upload_job& job, const multipart::part_plan& plan, stable_file& file,
                     const asio::any_io_executor& ex)
        : s3_(s3), job_(job), plan_(plan), file_(file),
          fsm_({job.key, plan, s3.settings().sse != "aws:kms", static_cast<unsigned>(job.part_slots->limit()),
                s3_path(s3, job.key)}),
          wake_(ex, asio::steady_timer::time_point::max())
    {
    }

    asio::awaitable<upload_outcome> run()
    {
        log::debug("multipart", "uploading " + log::quote(job_.key) + " in " + std::to_string(plan_.count) +
                                    " parts of " + log::human_bytes(plan_.part_size),
                   {{"key", job_.key}, {"parts", std::uint64_t{plan_.count}}, {"part_size", plan_.part_size}});
        const multipart::event first = multipart::start{};
        auto next = co_await step(first);
        for (;;) {
            say(next.said);
            if (next == action::done)
                break;
            const multipart::event answer = co_await carry_out(next);
            next = co_await step(answer);
        }
        co_return outcome();
    }

private:
    using action = multipart::action;

    bool stop_requested() const { return job_.stop && job_.stop->stopped(); }

    // A shutdown is an input like any answer: it is told to the state machine before the next
    // event or question, so no part is claimed once the flag is set. The abort it asks for at
    // once is sent by the watch (woken here), not by the worker that noticed, which may hold a
    // part slot or be in the middle of a part.
    void tell_shutdown()
    {
        if (told_shutdown_ || !stop_requested())
            return;
        told_shutdown_ = true;
        auto at_once = fsm_.resume(multipart::shutdown_requested{});
        if (at_once == action::abort) {
            at_once_ = std::move(at_once);
            wake_.cancel();
        }
    }

    // The session-wide steps: an abort asked for at once goes out before the next event.
    asio::awaitable<action> step(multipart::event e)
    {
        tell_shutdown();
        co_await send_at_once();
        co_return fsm_.resume(e);
    }

    // The parts' steps, within a worker: nothing to wait for.
    action part_step(const multipart::event& e)
    {
        tell_shutdown();
        return fsm_.resume(e);
    }

    asio::awaitable<void> send_at_once()
    {
        if (!at_once_)
            co_return;
        const auto a = std::move(*at_once_);
        at_once_.reset();
        co_await abort(a.upload_id, a.why);
        fsm_.resume(multipart::aborted{}); // answered with nothing to do: the parts go on settling
    }

    // The session-wide actions; the parts' own ones are the workers'.
    asio::awaitable<multipart::event> carry_out(const action& a)
    {
        const auto key = job_.key;
        switch (a.what) {
        case action::list_uploads: {
            auto uploads = co_await s3_.list_multipart_uploads(key);
            if (!uploads)
                co_return multipart::uploads_not_listed{uploads.error()};
            co_return multipart::uploads_listed{std::move(*uploads)};
        }
        case action::list_parts: {
            const auto id = a.upload_id;
            auto parts = co_await s3_.list_parts(key, id);
            if (!parts)
                co_return multipart::parts_not_listed{parts.error()};
            co_return multipart::parts_listed{std::move(*parts)};
        }
        case action::abort:
            co_await abort(a.upload_id, a.why);
            co_return multipart::aborted{};
        case action::create: {
            auto id = co_await s3_.create_multipart_upload(key, job_.file.mtime_ns);
            if (!id)
                co_return multipart::create_failed{id.error()};
            co_return multipart::created{std::move(*id)};
        }
        case action::send_parts:
            co_await send_parts(a.workers);
            co_return multipart::parts_done{};
        case action::check_file: {
            const bool unchanged = file_.unchanged();
            co_return multipart::file_checked{unchanged, file_.detail()};
        }
        case action::complete: {
            const auto id = a.upload_id;
            auto parts = fsm_.parts();
            const auto expected = fsm_.expected_etag();
            auto res = co_await s3_.complete_multipart_upload(key, id, std::move(parts), expected);
            if (!res)
                co_return multipart::completion_failed{res.error()};
            co_return multipart::completed{std::move(res->etag), res->whole_object_md5};
        }
        case action::check_whole_md5: {
            auto checked = co_await whole_md5();
            co_return checked;
        }
        case action::none:
        case action::hash_part:
        case action::send_part:
        case action::next_part:
        case action::worker_done:
        case action::done:
            break;
        }
        throw std::logic_error("multipart: no session-wide step for action " + std::to_string(static_cast<int>(a.what)));
    }

    // The decisions worth a line in the log.
    void say(const multipart::note& n) const
    {
        const auto& key = job_.key;
        switch (n.what) {
        case multipart::note::nothing:
            break;
        case multipart::note::uploads_not_listed:
            log::warn("multipart", "cannot list incomplete multipart uploads of " + log::quote(key) + " (" + n.problem +
                                       "); starting a new upload",
                      {{"key", key}});
            break;
        case multipart::note::parts_not_listed:
            log::warn("multipart", "cannot list the parts of the interrupted upload of " + log::quote(key) + " (" +
                                       n.problem + "); it is not resumed",
                      {{"key", key}, {"upload_id", n.upload_id}});
            break;
        case multipart::note::resuming:
            log::info("multipart_resume",
                      "resuming the interrupted multipart upload of " + log::quote(key) + ": " +
                          std::to_string(n.parts_present) + " of " + std::to_string(plan_.count) +
                          " parts are there already (each is checked against the file)",
                      {{"key", key}, {"upload_id", n.upload_id},
                       {"parts_present", static_cast<std::int64_t>(n.parts_present)},
                       {"parts", std::uint64_t{plan_.count}}});
            break;
        case multipart::note::starting_over:
            log::info("multipart", "the interrupted upload of " + log::quote(key) +
                                       " holds parts that differ from the file; starting a new upload",
                      {{"key", key}});
            break;
        }
    }

    // The part workers, and beside them the watch for a shutdown, woken by the cycle's stop
    // signal (or by the last worker) rather than polling.
    asio::awaitable<void> send_parts(unsigned workers)
    {
        workers_ = workers;
        const stop_signal::registration on_stop(job_.stop, wake_);
        bool watch = true;
        co_await run_parallel(workers_ + 1, [this, &watch] {
            return std::exchange(watch, false) ? watch_shutdown() : part_worker();
        });
    }

    // On shutdown the upload is aborted at once, within the grace period, rather than after the
    // parts in flight: on a slow link they may outlast it. Parts that still land are freed by the
    // abort that follows them (S3 may need two).
    asio::awaitable<void> watch_shutdown()
    {
        while (workers_ > 0) {
            tell_shutdown();
            if (at_once_) {
                co_await send_at_once();
                co_return;
            }
            if (told_shutdown_)
                co_return;
            boost::system::error_code ec;
            co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
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
            const auto claim = part_step(multipart::part_wanted{});
            if (claim != action::hash_part) // claimed by the others, or stopped, while this worker waited
                break;
            co_await job_.budget->acquire(piece);
            const budget_hold hold{job_.budget, piece};
            const auto buffer = std::make_unique_for_overwrite<char[]>(piece);
            co_await send_part(claim.part, std::span<char>(buffer.get(), piece));
        }
        if (--workers_ == 0)
            wake_.cancel(); // the watch has nothing left to watch
    }

    bool claimable()
    {
        tell_shutdown();
        return fsm_.claimable();
    }

    // MD5 of the file's bytes in `part` as it holds them now, read through buf; nullopt when the
    // file cannot be read or is no longer the one the walk saw (then the file says why).
    std::optional<crypto::md5_digest> hash_range(const http::file_range& part, std::span<char> buf)
    {
        crypto::md5_hasher md5;
        if (!hash_into(md5, part, buf) || !file_.unchanged())
            return std::nullopt;
        return md5.finish();
    }

    // Feeds the file's bytes in range to md5, read through buf; false when the read fails (the
    // file then says why).
    bool hash_into(crypto::md5_hasher& md5, const http::file_range& range, std::span<char> buf)
    {
        for (std::uint64_t done = 0; done < range.length;) {
            const auto piece = buf.first(static_cast<std::size_t>(std::min<std::uint64_t>(range.length - done, buf.size())));
            if (!file_.read_at(range.offset + done, piece))
                return false;
            md5.update(std::string_view(piece.data(), piece.size()));
            done += piece.size();
        }
        return true;
    }

    // After a completion answered with the whole object's MD5 (s3rver, some gateways): the file
    // read once more, start to end, through a buffer from the memory budget like a part's, its
    // MD5 computed and the file checked unchanged. Between parts' worth of bytes the coroutine
    // yields, so a large file does not hold up the other transfers on the io_context.
    asio::awaitable<multipart::event> whole_md5()
    {
        log::debug("multipart", "the server answered the completion of " + log::quote(job_.key) +
                                    " with a plain MD5; reading the file once more to compare the whole file's MD5",
                   {{"key", job_.key}, {"bytes", job_.file.size}});
        const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(hash_piece, plan_.part_size));
        co_await job_.budget->acquire(piece);
        const budget_hold hold{job_.budget, piece};
        const auto buffer = std::make_unique_for_overwrite<char[]>(piece);
        const std::span<char> buf(buffer.get(), piece);
        crypto::md5_hasher md5;
        for (std::uint32_t n = 1; n <= plan_.count; ++n) {
            const http::file_range range{file_.fd(), plan_.offset(n), plan_.length(n)};
            if (!hash_into(md5, range, buf))
                co_return multipart::whole_md5_checked{{}, false, file_.detail()};
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        }
        if (!file_.unchanged())
            co_return multipart::whole_md5_checked{{}, false, file_.detail()};
        co_return multipart::whole_md5_checked{md5.finish(), true, {}};
    }

    // The range hashed is the range sent: one file_range for both.
    asio::awaitable<void> send_part(std::uint32_t number, std::span<char> buf)
    {
        const http::file_range range{file_.fd(), plan_.offset(number), plan_.length(number)};
        const auto md5 = hash_range(range, buf);
        const auto next = md5 ? part_step(multipart::part_hashed{number, *md5})
                              : part_step(multipart::file_changed{number, file_.detail()});
        if (next != action::send_part) // resumed and kept, or not to be sent
            co_return;
        const auto key = job_.key;
        const auto id = next.upload_id;
        // A failed part is not sent again once the file has changed (the server's BadDigest would
        // only repeat) or the upload is stopping (it is about to be aborted).
        auto res = co_await s3_.upload_part(key, id, number, range, *md5, [this] { return still_wanted(); });
        if (!res) {
            const bool unchanged = file_.unchanged();
            part_step(multipart::part_failed{number, res.error(), unchanged, unchanged ? std::string() : file_.detail()});
            co_return;
        }
        part_step(multipart::part_sent{number, std::move(res->etag)});
    }

    bool still_wanted()
    {
        tell_shutdown();
        return !fsm_.stopped() && file_.unchanged();
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
        const auto done = fsm_.outcome();
        upload_outcome out;
        out.parts = done.parts;
        out.parts_resumed = done.parts_resumed;
        switch (done.stop) {
        case multipart::stop_reason::none:
            out.etag = done.etag;
            break;
        case multipart::stop_reason::local:
            out.local = file_.outcome();
            out.detail = file_.detail();
            break;
        case multipart::stop_reason::failed:
            out.failure = done.failure;
            break;
        case multipart::stop_reason::shutdown:
        case multipart::stop_reason::stale:
            out.failure = make_error(errc::cancelled, "uploading " + s3_path(s3_, job_.key) + ": interrupted");
            break;
        }
        return out;
    }

    s3::client& s3_;
    const upload_job& job_;
    const multipart::part_plan& plan_;
    stable_file& file_;
    multipart::session fsm_;                  // the decisions
    asio::steady_timer wake_;                 // never expires: cancelled to wake the watch
    std::optional<action> at_once_;           // a shutdown's abort, for the watch to send
    bool told_shutdown_ = false;
    unsigned workers_ = 0;                    // part workers still running
    std::string aborted_;                     // the upload aborted last (a second abort is logged at debug)
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
    multipart_driver session(s3, job, *plan, file, co_await asio::this_coro::executor);
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
