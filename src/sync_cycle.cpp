#include "syncd/sync_cycle.hpp"

#include "syncd/byte_budget.hpp"
#include "syncd/diff.hpp"
#include "syncd/log.hpp"
#include "syncd/walk.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace syncd {

namespace asio = boost::asio;

int cycle_report::exit_status() const
{
    if (fatal)
        return 3;
    if (pending || conflicts || failed)
        return 1;
    return 0;
}

namespace {

constexpr std::uint64_t memory_budget = 256ull << 20;

std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t mtime_ns(const struct stat& st)
{
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool same(const struct stat& st, const file_entry& f)
{
    return static_cast<std::uint64_t>(st.st_size) == f.size && mtime_ns(st) == f.mtime_ns;
}

enum class read_outcome { ok, changed, vanished, unreadable };

struct file_contents {
    read_outcome outcome = read_outcome::ok;
    std::string data;
    std::string detail;
};

// Reads the whole file, refusing anything that is not the regular file the walk saw, and
// anything whose size or mtime moves while we read it (nothing torn is ever stored).
file_contents read_stable(const std::filesystem::path& path, const file_entry& f, bool follow)
{
    file_contents out;
    const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) {
        out.outcome = errno == ENOENT ? read_outcome::vanished
                      : errno == ELOOP ? read_outcome::changed
                                       : read_outcome::unreadable;
        out.detail = std::strerror(errno);
        return out;
    }
    struct stat before{};
    if (::fstat(fd, &before) != 0 || !S_ISREG(before.st_mode) || !same(before, f)) {
        ::close(fd);
        out.outcome = read_outcome::changed;
        out.detail = "changed since it was scanned";
        return out;
    }
    out.data.resize(f.size);
    std::size_t done = 0;
    while (done < f.size) {
        const auto n = ::pread(fd, out.data.data() + done, f.size - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            out.outcome = read_outcome::unreadable;
            out.detail = std::strerror(errno);
            ::close(fd);
            return out;
        }
        if (n == 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    struct stat after{};
    const bool stable = ::fstat(fd, &after) == 0 && done == f.size && same(after, f);
    ::close(fd);
    if (!stable) {
        out.outcome = read_outcome::changed;
        out.detail = "changed while it was read";
        out.data.clear();
    }
    return out;
}

std::string describe_issue(entry_issue issue)
{
    switch (issue) {
    case entry_issue::symlink_skipped: return "symlink skipped (set follow_symlinks = true to upload its target)";
    case entry_issue::special_skipped: return "not a regular file (FIFO, socket or device); skipped";
    case entry_issue::symlink_loop: return "symlink loop; skipped";
    case entry_issue::dangling_symlink: return "symlink to nothing; skipped";
    case entry_issue::excluded: return "excluded";
    case entry_issue::invalid_name: return "name cannot form an S3 key; not uploaded, directory stays unmarked (rename it)";
    case entry_issue::unreadable: return "cannot be read; directory stays unmarked";
    }
    return "";
}

class cycle {
public:
    cycle(s3::client& s3, const config& cfg, cycle_options opt) : s3_(s3), cfg_(cfg), opt_(opt) {}

    asio::awaitable<cycle_report> run()
    {
        const auto start = std::chrono::steady_clock::now();
        log::info("cycle_start", "sync cycle started: " + log::quote(cfg_.local_dir.string()) + " -> s3://" +
                                     cfg_.bucket_name + "/" + cfg_.prefix,
                  {{"local_dir", cfg_.local_dir.string()}, {"bucket", cfg_.bucket_name}, {"prefix", cfg_.prefix}});

        tree_ = walk(cfg_.local_dir, {cfg_.sync_marker_file, cfg_.exclude, cfg_.follow_symlinks});
        report_.files_seen = tree_.file_count();
        report_walk_problems();

        auto listing = co_await s3_.list_objects(cfg_.prefix);
        if (!listing) {
            fail_cycle(listing.error());
        } else {
            remote_index remote;
            remote.reserve(listing->size());
            for (auto& o : *listing)
                remote.emplace(std::move(o.key), remote_object{o.size, std::move(o.etag)});
            diff_options d{cfg_.prefix, cfg_.overwrite_changed, cfg_.settle_time, now_ns()};
            auto plan = diff(tree_, remote, d);
            std::vector<const file_plan*> uploads;
            classify(plan, uploads);
            if (opt_.dry_run)
                show_dry_run(uploads);
            else
                co_await upload_all(uploads);
        }
        report_.elapsed = std::chrono::steady_clock::now() - start;
        log_summary();
        co_return report_;
    }

private:
    void report_walk_problems()
    {
        for (const auto& dir : tree_.dirs) {
            for (const auto& p : dir.problems) {
                const auto rel = dir.rel.empty() ? p.name : dir.rel + "/" + p.name;
                auto msg = log::quote(rel) + ": " + describe_issue(p.issue) +
                           (p.detail.empty() ? "" : " (" + p.detail + ")");
                log::fields f = {{"path", rel}};
                switch (p.issue) {
                case entry_issue::excluded:
                    ++report_.skipped;
                    log::debug("skip", msg, f);
                    break;
                case entry_issue::symlink_skipped:
                case entry_issue::dangling_symlink:
                    ++report_.skipped;
                    log::info("skip", msg, f);
                    break;
                case entry_issue::special_skipped:
                case entry_issue::symlink_loop:
                    ++report_.skipped;
                    log::warn("skip", msg, f);
                    break;
                case entry_issue::invalid_name:
                case entry_issue::unreadable:
                    ++report_.failed;
                    log::error("error", msg, f);
                    break;
                }
            }
        }
    }

    void fail_cycle(const error& e)
    {
        if (retry::is_fatal(e.code)) {
            report_.fatal = e;
            log::error("fatal", e.to_string() + hint(e), {{"code", e.s3_code}, {"request_id", e.request_id}});
        } else {
            ++report_.failed;
            log::error("error", e.to_string(), {{"code", e.s3_code}, {"request_id", e.request_id}});
        }
    }

    static std::string hint(const error& e)
    {
        switch (static_cast<errc>(e.code.value())) {
        case errc::no_such_bucket: return " — create the bucket or fix bucket_name";
        case errc::signature_mismatch: return " — check aws_secret_key (and region)";
        case errc::invalid_access_key: return " — check aws_access_key / the session token";
        case errc::access_denied: return " — the credentials lack permission for this bucket/prefix";
        case errc::connect_failed:
        case errc::resolve_failed: return " — check endpoint and that the service is reachable";
        default: return "";
        }
    }

    void classify(const std::vector<file_plan>& plan, std::vector<const file_plan*>& uploads)
    {
        for (const auto& p : plan) {
            const auto& f = file(p);
            switch (p.action) {
            case file_action::verified:
                ++report_.verified;
                break;
            case file_action::settling:
                ++report_.pending;
                log::debug("pending", log::quote(p.key) + ": modified less than settle_time ago; waiting",
                           {{"key", p.key}});
                break;
            case file_action::conflict:
                ++report_.conflicts;
                log::warn("conflict",
                          log::quote(p.key) + ": S3 object has " + std::to_string(p.remote_size) +
                              " bytes, local file has " + std::to_string(f.size) +
                              "; not overwritten (set overwrite_changed = true to re-upload)",
                          {{"key", p.key}, {"remote_size", p.remote_size}, {"local_size", f.size}});
                break;
            case file_action::invalid_key:
                ++report_.failed;
                log::error("error", log::quote(p.key) + ": key longer than 1024 bytes; not uploaded",
                           {{"key", p.key}});
                break;
            case file_action::upload:
            case file_action::overwrite:
                uploads.push_back(&p);
                break;
            }
        }
    }

    const file_entry& file(const file_plan& p) const { return tree_.dirs[p.dir].files[p.file]; }

    std::filesystem::path local_path(const file_plan& p) const
    {
        const auto& dir = tree_.dirs[p.dir];
        auto path = dir.rel.empty() ? cfg_.local_dir : cfg_.local_dir / dir.rel;
        return path / file(p).name;
    }

    void show_dry_run(const std::vector<const file_plan*>& uploads)
    {
        for (const auto* p : uploads) {
            std::printf("would upload %s (%s)\n", log::quote(p->key).c_str(),
                        log::human_bytes(file(*p).size).c_str());
        }
        report_.pending += uploads.size();
    }

    asio::awaitable<void> upload_all(const std::vector<const file_plan*>& uploads)
    {
        auto ex = co_await asio::this_coro::executor;
        std::size_t next = 0;
        byte_budget budget(memory_budget);
        const std::size_t workers = std::min<std::size_t>(cfg_.concurrency, uploads.size());
        std::size_t running = workers;
        std::exception_ptr failure;
        asio::steady_timer done(ex, asio::steady_timer::time_point::max());

        auto worker = [&]() -> asio::awaitable<void> {
            while (next < uploads.size() && !report_.fatal) {
                const auto* p = uploads[next++];
                const auto size = file(*p).size;
                co_await budget.acquire(size);
                co_await upload_one(*p);
                budget.release(size);
            }
        };
        for (std::size_t i = 0; i < workers; ++i) {
            asio::co_spawn(ex, worker(), [&](std::exception_ptr e) {
                if (e && !failure)
                    failure = e;
                if (--running == 0)
                    done.cancel();
            });
        }
        if (running > 0) {
            boost::system::error_code ec;
            co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        if (failure)
            std::rethrow_exception(failure);
    }

    asio::awaitable<void> upload_one(const file_plan& p)
    {
        const auto& f = file(p);
        const auto path = local_path(p);
        auto contents = read_stable(path, f, cfg_.follow_symlinks);
        switch (contents.outcome) {
        case read_outcome::ok:
            break;
        case read_outcome::changed:
        case read_outcome::vanished:
            ++report_.pending;
            log::info("pending", log::quote(p.key) + ": " + contents.detail + "; will retry next cycle",
                      {{"key", p.key}});
            co_return;
        case read_outcome::unreadable:
            ++report_.failed;
            log::error("error", "cannot read " + log::quote(path.string()) + ": " + contents.detail +
                                    " — fix its permissions or exclude it",
                       {{"key", p.key}, {"path", path.string()}});
            co_return;
        }
        const auto md5 = crypto::md5(contents.data);
        const auto started = std::chrono::steady_clock::now();
        auto res = co_await s3_.put_object(p.key, contents.data, {md5, f.mtime_ns});
        if (!res) {
            if (retry::is_fatal(res.error().code)) {
                if (!report_.fatal)
                    fail_cycle(res.error());
            } else {
                ++report_.failed;
                log::error("error", res.error().to_string(),
                           {{"key", p.key}, {"code", res.error().s3_code}, {"request_id", res.error().request_id}});
            }
            co_return;
        }
        ++report_.uploaded;
        report_.bytes_uploaded += f.size;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started).count();
        log::info("upload",
                  std::string(p.action == file_action::overwrite ? "re-uploaded " : "uploaded ") +
                      log::quote(p.key) + " (" + log::human_bytes(f.size) + ") in " + std::to_string(ms) + " ms",
                  {{"key", p.key}, {"bytes", f.size}, {"ms", static_cast<std::int64_t>(ms)},
                   {"etag", res->etag}, {"overwrite", p.action == file_action::overwrite}});
    }

    void log_summary()
    {
        const double secs = std::chrono::duration<double>(report_.elapsed).count();
        const double rate = secs > 0 ? static_cast<double>(report_.bytes_uploaded) / secs : 0;
        char line[512];
        std::snprintf(line, sizeof line,
                      "cycle %s in %.2f s: %llu files seen, %llu uploaded (%s), %llu verified, %llu pending, "
                      "%llu conflicts, %llu failed, %llu skipped; %s/s",
                      report_.fatal ? "stopped" : "finished", secs,
                      static_cast<unsigned long long>(report_.files_seen),
                      static_cast<unsigned long long>(report_.uploaded),
                      log::human_bytes(report_.bytes_uploaded).c_str(),
                      static_cast<unsigned long long>(report_.verified),
                      static_cast<unsigned long long>(report_.pending),
                      static_cast<unsigned long long>(report_.conflicts),
                      static_cast<unsigned long long>(report_.failed),
                      static_cast<unsigned long long>(report_.skipped),
                      log::human_bytes(static_cast<std::uint64_t>(rate)).c_str());
        const auto& c = s3_.counts();
        log::info("cycle_end", line,
                  {{"files_seen", report_.files_seen}, {"uploaded", report_.uploaded},
                   {"bytes_uploaded", report_.bytes_uploaded}, {"verified", report_.verified},
                   {"pending", report_.pending}, {"conflicts", report_.conflicts}, {"failed", report_.failed},
                   {"skipped", report_.skipped}, {"duration_s", secs}, {"bytes_per_s", rate},
                   {"list_requests", c.list}, {"put_requests", c.put}, {"retries", c.retries},
                   {"exit_status", static_cast<std::int64_t>(report_.exit_status())}});
    }

    s3::client& s3_;
    const config& cfg_;
    cycle_options opt_;
    tree tree_;
    cycle_report report_;
};

} // namespace

asio::awaitable<cycle_report> run_cycle(s3::client& s3, const config& cfg, cycle_options opt)
{
    cycle c(s3, cfg, opt);
    co_return co_await c.run();
}

} // namespace syncd
