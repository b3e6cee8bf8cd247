#include "engine/sync_cycle.hpp"

#include "core/byte_budget.hpp"
#include "core/log.hpp"
#include "engine/diff.hpp"
#include "engine/list_ranges.hpp"
#include "engine/markers.hpp"
#include "engine/parallel.hpp"
#include "engine/state.hpp"
#include "engine/upload.hpp"
#include "local/local_fs.hpp"
#include "local/walk.hpp"
#include "syncd_version.hpp"

#include <ctime>
#include <deque>

namespace syncd {

namespace asio = boost::asio;

namespace {

constexpr std::uint64_t memory_budget = 256ull << 20;
constexpr std::size_t unmarked_listed = 10;

// Requests of one kind in flight at once (multipart parts: part_concurrency; listing ranges:
// list_concurrency): their own limit, and never more than the requests allowed on the wire (one
// beyond that would only wait, holding what it took, such as a part's buffer).
unsigned within_concurrency(unsigned limit, const config& cfg)
{
    return std::min(limit, cfg.concurrency);
}

std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string utc_now()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string describe_issue(entry_issue issue)
{
    switch (issue) {
    case entry_issue::symlink_skipped: return "symlink skipped (set follow_symlinks = true to upload its target)";
    case entry_issue::special_skipped: return "not a regular file (FIFO, socket or device); skipped";
    case entry_issue::symlink_loop: return "symlink loop; skipped";
    case entry_issue::dangling_symlink: return "symlink to nothing; skipped";
    case entry_issue::excluded: return "excluded";
    case entry_issue::invalid_name: return "name is not valid UTF-8, so it cannot be an S3 key; not uploaded (rename it)";
    case entry_issue::unreadable: return "cannot be read";
    }
    return "";
}

std::string hint(const error& e)
{
    if (e.code.category() != syncd_category())
        return "";
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

struct work_item {
    int dir = -1;                     // a directory that is ready for its marker decision
    const file_plan* upload = nullptr; // or a file to upload
};

class cycle {
public:
    cycle(s3::client& s3, const config& cfg, cycle_options opt)
        : s3_(s3), cfg_(cfg), opt_(std::move(opt)),
          want_s3_(cfg.markers != marker_location::local),
          want_local_(cfg.markers != marker_location::s3)
    {
    }

    asio::awaitable<cycle_report> run()
    {
        const auto start = std::chrono::steady_clock::now();
        const auto counts_before = s3_.counts();
        log::info("cycle_start", "sync cycle started: " + log::quote(cfg_.local_dir.string()) + " -> s3://" +
                                     cfg_.bucket_name + "/" + cfg_.prefix,
                  {{"local_dir", cfg_.local_dir.string()}, {"bucket", cfg_.bucket_name}, {"prefix", cfg_.prefix}});

        tree_ = walk(cfg_.local_dir, {cfg_.sync_marker_file, cfg_.exclude, cfg_.follow_symlinks});
        summaries_ = summarize(tree_);
        reasons_.assign(tree_.dirs.size(), {});
        report_.files_seen = tree_.file_count();
        report_walk_problems();
        const auto walked = std::chrono::steady_clock::now();
        report_.walk_time = walked - start;

        // The listing goes into the index page by page: held whole and then indexed, it was in
        // memory twice, and a no-change cycle over 200,000 objects peaked at 100.4 MiB, not 87.6.
        const s3::client::page_sink index_page = [this](std::vector<s3::object_info>& page) {
            for (auto& o : page)
                remote_.emplace(std::move(o.key), remote_object{o.size, std::move(o.etag)});
        };
        auto listing = co_await list_remote(index_page);
        report_.list_time = std::chrono::steady_clock::now() - walked;
        if (!listing) {
            // Without a listing nothing can be decided: whatever the cause (retries exhausted on
            // 5xx or dropped connections included), the endpoint is unusable for this cycle.
            fail_cycle(listing.error(), true);
        } else {
            cache_file_ = marker_cache_path(opt_.state_dir, cfg_.target);
            cache_ = load_marker_cache(cache_file_);
            // Named, not temporaries: GCC 12 mishandles temporaries with destructors inside a
            // co_await full-expression.
            const diff_options options{cfg_.prefix, cfg_.overwrite_changed, cfg_.settle_time, now_ns(),
                                       &cache_.suspect};
            fresh_cache_.suspect = cache_.suspect;
            const auto plan = diff(tree_, remote_, options);
            co_await process(plan);
            if (!opt_.dry_run)
                save_cache();
        }
        finish_report();
        const auto& counts = s3_.counts();
        report_.list_requests = counts.list - counts_before.list;
        report_.put_requests = counts.put - counts_before.put;
        report_.get_requests = counts.get - counts_before.get;
        report_.retries = counts.retries - counts_before.retries;
        report_.elapsed = std::chrono::steady_clock::now() - start;
        log_summary();
        co_return report_;
    }

private:
    // ---- listing --------------------------------------------------------------------------

    // The prefix's listing, cut into key ranges listed side by side: against RGW a chain of 203
    // pages took 5.0-10.4 s, eight ranges 2.7-3.1 s. Servers that rescan the bucket for every
    // page gain nothing (s3rver: 11 pages 1.3 s, 5 ranges 2.0 s), so small trees keep one chain.
    asio::awaitable<result<void>> list_remote(const s3::client::page_sink& index_page)
    {
        const auto n = listing_range_count(tree_.file_count(), opt_.files_per_list_range,
                                           within_concurrency(cfg_.list_concurrency, cfg_));
        const auto ranges = listing_ranges(tree_, cfg_.prefix, n);
        std::optional<error> failed;
        std::size_t next = 0;
        co_await run_parallel(ranges.size(), [&] { return list_range(ranges[next++], index_page, failed); });
        if (failed)
            co_return *failed;
        co_return result<void>();
    }

    asio::awaitable<void> list_range(const key_range& range, const s3::client::page_sink& index_page,
                                     std::optional<error>& failed)
    {
        auto done = co_await s3_.list_objects(cfg_.prefix, index_page, range);
        if (!done && !failed)
            failed = done.error();
    }

    // ---- classification -------------------------------------------------------------------

    void report_walk_problems()
    {
        for (std::size_t d = 0; d < tree_.dirs.size(); ++d) {
            const auto& dir = tree_.dirs[d];
            for (const auto& p : dir.problems) {
                const auto rel = problem_path(dir, p);
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
                    note(static_cast<int>(d), log::quote(rel) + ": " + describe_issue(p.issue));
                    log::error("error", msg + "; its directory stays unmarked", f);
                    break;
                }
            }
        }
    }

    void fail_cycle(const error& e, bool always_fatal = false)
    {
        if (always_fatal || retry::is_fatal(e.code)) {
            report_.fatal = e;
            log::error("fatal", e.to_string() + hint(e), {{"code", e.s3_code}, {"request_id", e.request_id}});
        } else {
            ++report_.failed;
            log::error("error", e.to_string(), {{"code", e.s3_code}, {"request_id", e.request_id}});
        }
    }

    // The first reason a directory stays unmarked.
    void note(int dir, std::string reason)
    {
        if (reasons_[dir].empty())
            reasons_[dir] = std::move(reason);
    }

    asio::awaitable<void> process(const std::vector<file_plan>& plan)
    {
        const auto now = now_ns();
        std::vector<bool> settled(tree_.dirs.size());
        for (std::size_t d = 0; d < tree_.dirs.size(); ++d) {
            settled[d] = now - tree_.dirs[d].mtime_ns >= cfg_.settle_time.count();
            if (!settled[d] && tree_.dirs[d].files.empty() && tree_.dirs[d].subdirs.empty())
                note(static_cast<int>(d), "empty directory modified less than settle_time ago");
        }
        tracker_.emplace(tree_, std::move(settled));

        for (int d : tracker_->initially_ready())
            queue_.push_back({d, nullptr});
        std::deque<work_item> uploads;
        for (const auto& p : plan) {
            if (p.action == file_action::upload || p.action == file_action::overwrite) {
                uploads.push_back({-1, &p});
                continue;
            }
            const bool ok = classify(p);
            if (int ready = file_resolved(p, ok, ok ? listed_etag(p.key) : std::string_view()); ready >= 0)
                queue_.push_back({ready, nullptr});
        }
        // Marker decisions first (they are cheap), then the uploads in walk order, so that a run
        // folder's files go up together and it is marked as early as possible.
        for (auto& u : uploads) {
            queue_.push_back(u);
            if (opt_.progress) {
                ++opt_.progress->files_total;
                opt_.progress->bytes_total += file(*u.upload).size;
            }
        }
        if (opt_.progress)
            opt_.progress->planned = true;
        co_await run_workers();
    }

    // Files that need no upload: returns whether the file counts as verified.
    bool classify(const file_plan& p)
    {
        const auto& f = file(p);
        switch (p.action) {
        case file_action::verified:
            ++report_.verified;
            return true;
        case file_action::settling:
            ++report_.pending;
            note(p.dir, log::quote(p.key) + " modified less than settle_time ago");
            log::debug("pending", log::quote(p.key) + ": modified less than settle_time ago; waiting",
                       {{"key", p.key}});
            return false;
        case file_action::conflict:
            ++report_.conflicts;
            note(p.dir, log::quote(p.key) + " conflicts with a different-size object");
            log::warn("conflict",
                      log::quote(p.key) + ": S3 object has " + std::to_string(p.remote_size) +
                          " bytes, local file has " + std::to_string(f.size) +
                          "; not overwritten (set overwrite_changed = true to re-upload)",
                      {{"key", p.key}, {"remote_size", p.remote_size}, {"local_size", f.size}});
            return false;
        case file_action::invalid_key:
            ++report_.failed;
            note(p.dir, log::quote(p.key) + " is longer than 1024 bytes");
            log::error("error", log::quote(p.key) + ": key longer than 1024 bytes; not uploaded",
                       {{"key", p.key}});
            return false;
        case file_action::upload:
        case file_action::overwrite:
            break;
        }
        return false;
    }

    // The ETag the listing shows for a file found present (diff() looked the key up once already;
    // a second hash lookup per verified file is cheaper than widening file_plan for every file).
    std::string_view listed_etag(const std::string& key) const
    {
        auto it = remote_.find(key);
        return it == remote_.end() ? std::string_view() : std::string_view(it->second.etag);
    }

    // Reports a resolved file to the tracker with the ETag S3 confirmed for it, which the marker's
    // digest covers (docs/markers.md). A verified file whose ETag cannot stand in the digest
    // (none, or not printable ASCII) keeps its directory unmarked: its content cannot be stated.
    int file_resolved(const file_plan& p, bool ok, std::string_view etag)
    {
        if (!ok)
            return tracker_->file_done(p.dir, p.file, false, std::nullopt);
        auto normal = digest_etag(etag);
        if (!normal) {
            ++report_.failed;
            note(p.dir, log::quote(p.key) + " has no ETag the marker's digest can hold");
            log::error("error",
                       log::quote(p.key) + ": S3 gives the object the ETag " + log::quote(std::string(etag)) +
                           ", which cannot stand in the marker's digest (empty, a space or a byte that is "
                           "not printable ASCII); its directory stays unmarked",
                       {{"key", p.key}, {"etag", std::string(etag)}});
            return tracker_->file_done(p.dir, p.file, false, std::nullopt);
        }
        return tracker_->file_done(p.dir, p.file, true, *normal);
    }

    const file_entry& file(const file_plan& p) const { return tree_.dirs[p.dir].files[p.file]; }

    bool stopping() const { return opt_.stop && opt_.stop->stopped(); }

    std::filesystem::path local_dir_of(int dir) const
    {
        const auto& rel = tree_.dirs[dir].rel;
        return rel.empty() ? cfg_.local_dir : cfg_.local_dir / rel;
    }

    // ---- workers --------------------------------------------------------------------------

    asio::awaitable<void> run_workers()
    {
        const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(cfg_.concurrency, queue_.size()));
        co_await run_parallel(workers, [this] { return worker(); });
    }

    asio::awaitable<void> worker()
    {
        while (!queue_.empty() && !report_.fatal && !stopping()) {
            const auto item = queue_.front();
            queue_.pop_front();
            int ready = item.dir;
            if (item.upload) {
                const auto& p = *item.upload;
                if (opt_.dry_run) {
                    std::printf("would upload %s (%s)\n", log::quote(p.key).c_str(),
                                log::human_bytes(file(p).size).c_str());
                    ++report_.pending;
                    // Predict the markers that would follow; the ETag the upload would get is not
                    // known, so neither are the digests of this directory and its ancestors.
                    ready = tracker_->file_done(p.dir, p.file, true, std::nullopt);
                } else {
                    auto etag = co_await upload_one(p); // takes what it holds in memory from budget_
                    ready = file_resolved(p, etag.has_value(), etag ? std::string_view(*etag) : std::string_view());
                }
                if (opt_.progress) {
                    ++opt_.progress->files_done;
                    opt_.progress->bytes_done += file(p).size;
                }
            }
            co_await decide_markers(ready);
        }
    }

    // Marks dir if it is complete, then walks up while each parent becomes ready in turn.
    asio::awaitable<void> decide_markers(int dir)
    {
        while (dir >= 0 && !report_.fatal && !stopping()) {
            bool ok = tracker_->complete(dir);
            if (ok)
                ok = co_await ensure_marker(dir);
            else if (reasons_[dir].empty())
                note(dir, "a subdirectory is not complete");
            if (!ok && tree_.dirs[dir].parent >= 0)
                note(tree_.dirs[dir].parent, "subdirectory " + log::quote(tree_.dirs[dir].name()) + " is not complete");
            if (ok)
                marked_.push_back(dir);
            dir = tracker_->dir_done(dir, ok);
        }
    }

    // ---- uploads --------------------------------------------------------------------------

    // The stored object's ETag once the upload is verified (evidence as in docs/markers.md), else
    // nullopt.
    asio::awaitable<std::optional<std::string>> upload_one(const file_plan& p)
    {
        const auto& f = file(p);
        const auto path = local_dir_of(p.dir) / f.name;
        const auto started = std::chrono::steady_clock::now();
        upload_job job{path, f, p.key, cfg_.follow_symlinks, cfg_.multipart_threshold, cfg_.part_size,
                       &budget_, &part_slots_, uploads_started_++, opt_.stop};
        auto out = co_await upload_file(s3_, std::move(job));
        switch (out.local) {
        case read_outcome::ok:
            break;
        case read_outcome::changed:
        case read_outcome::vanished:
            ++report_.pending;
            note(p.dir, log::quote(p.key) + " " + out.detail);
            log::info("pending", log::quote(p.key) + ": " + out.detail + "; will retry next cycle",
                      {{"key", p.key}});
            co_return std::nullopt;
        case read_outcome::unreadable:
            ++report_.failed;
            note(p.dir, "cannot read " + log::quote(f.name));
            log::error("error", "cannot read " + log::quote(path.string()) + ": " + out.detail +
                                    " — fix its permissions or exclude it",
                       {{"key", p.key}, {"path", path.string()}});
            co_return std::nullopt;
        }
        if (out.failure) {
            upload_failed(p.dir, p.key, *out.failure);
            co_return std::nullopt;
        }
        ++report_.uploaded;
        report_.bytes_uploaded += f.size;
        fresh_cache_.suspect.erase(p.key);
        if (!log::enabled(log_level::info)) // nothing to build when info lines are not written
            co_return std::move(out.etag);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started).count();
        const auto parts = out.parts == 0 ? std::string()
                           : " in " + std::to_string(out.parts) + " parts" +
                                 (out.parts_resumed ? " (" + std::to_string(out.parts_resumed) + " resumed)" : "");
        log::info("upload",
                  std::string(p.action == file_action::overwrite ? "re-uploaded " : "uploaded ") +
                      log::quote(p.key) + " (" + log::human_bytes(f.size) + ")" + parts + " in " +
                      std::to_string(ms) + " ms",
                  {{"key", p.key}, {"bytes", f.size}, {"ms", static_cast<std::int64_t>(ms)},
                   {"etag", out.etag}, {"overwrite", p.action == file_action::overwrite},
                   {"parts", std::uint64_t{out.parts}}, {"parts_resumed", std::uint64_t{out.parts_resumed}}});
        co_return std::move(out.etag);
    }

    void upload_failed(int dir, const std::string& key, const error& e)
    {
        if (e.code == make_error_code(errc::integrity_mismatch)) {
            // Replaced next cycle, never taken as verified; saved now so a crash cannot lose it.
            fresh_cache_.suspect.insert(key);
            if (!opt_.dry_run)
                save_cache();
        }
        note(dir, "upload of " + log::quote(key) + " failed");
        if (e.code == make_error_code(errc::cancelled)) {
            ++report_.pending;
            log::warn("cancelled", log::quote(key) + ": interrupted by shutdown; will be retried next cycle",
                      {{"key", key}});
            return;
        }
        if (retry::is_fatal(e.code)) {
            if (!report_.fatal)
                fail_cycle(e);
            return;
        }
        ++report_.failed;
        log::error("error", e.to_string(), {{"key", key}, {"code", e.s3_code}, {"request_id", e.request_id}});
    }

    // ---- markers --------------------------------------------------------------------------

    // Makes sure dir (complete) has a current marker where marker_location wants one.
    asio::awaitable<bool> ensure_marker(int dir)
    {
        const auto& d = tree_.dirs[dir];
        const auto& sum = summaries_[dir];
        const auto key = marker_key(cfg_.prefix, d.rel, cfg_.sync_marker_file);
        // Computed by the tracker when dir became ready, from the ETags S3 confirmed; copied, since
        // the tracker frees it once the parent's digest is computed.
        const std::string digest = tracker_->digest(dir);
        if (digest.empty()) {
            if (opt_.dry_run) {
                // A file beneath would be uploaded first, and the digest covers the ETag that
                // upload would get: it cannot be known, and no marker can be current.
                std::printf("would write marker %s (%llu files, %s in the subtree; digest known after the "
                            "uploads)\n",
                            log::quote(key).c_str(), static_cast<unsigned long long>(sum.total_files),
                            log::human_bytes(sum.total_bytes).c_str());
                co_return true;
            }
            // Not reached outside --dry-run (a complete directory has its digest); never mark
            // without one.
            ++report_.failed;
            note(dir, "no digest could be computed");
            log::error("error", "no digest for " + log::quote(d.rel) + "; not marked", {{"directory", d.rel}});
            co_return false;
        }
        const bool s3_current = !want_s3_ || co_await s3_marker_current(key, digest);
        const bool local_current = !want_local_ || local_marker_current(dir, digest);
        if (s3_current && local_current)
            co_return true;

        if (opt_.dry_run) {
            std::printf("would write marker %s (%llu files, %s in the subtree) %s\n", log::quote(key).c_str(),
                        static_cast<unsigned long long>(sum.total_files), log::human_bytes(sum.total_bytes).c_str(),
                        digest.c_str());
            co_return true;
        }
        const auto json = marker_json({utc_now(), d.rel, sum, digest, std::string("syncd ") + SYNCD_VERSION});
        if (!s3_current) {
            const s3::put_options put{crypto::md5(json), now_ns()};
            auto res = co_await s3_.put_object(key, json, put);
            if (!res) {
                upload_failed(dir, key, res.error());
                co_return false;
            }
            fresh_cache_.markers[key] = {res->etag, digest};
        }
        if (!local_current) {
            if (auto written = write_file_atomic(local_dir_of(dir), cfg_.sync_marker_file, json); !written) {
                ++report_.failed;
                note(dir, "local marker not written");
                log::error("error", written.error().to_string(), {{"directory", d.rel}});
                co_return false;
            }
        }
        ++report_.markers_written;
        log::info("marker",
                  "marked " + (d.rel.empty() ? std::string("the root directory") : log::quote(d.rel)) + " (" +
                      std::to_string(sum.total_files) + " files, " + log::human_bytes(sum.total_bytes) +
                      " in the subtree) " + digest,
                  {{"directory", d.rel}, {"key", key}, {"files", sum.files}, {"bytes", sum.bytes},
                   {"total_files", sum.total_files}, {"total_bytes", sum.total_bytes}, {"digest", digest}});
        co_return true;
    }

    // Whether S3 already holds a marker for this digest: from the cache when the listing shows
    // the object unchanged, else by reading the marker back once.
    asio::awaitable<bool> s3_marker_current(const std::string& key, const std::string& digest)
    {
        auto obj = remote_.find(key);
        if (obj == remote_.end())
            co_return false;
        if (auto c = cache_.markers.find(key); c != cache_.markers.end() && c->second.etag == obj->second.etag) {
            fresh_cache_.markers[key] = c->second;
            co_return c->second.digest == digest;
        }
        auto got = co_await s3_.get_object(key);
        if (!got) {
            log::warn("marker_read", got.error().to_string() + "; the marker will be rewritten");
            co_return false;
        }
        auto existing = marker_digest(got->body);
        if (!existing)
            co_return false;
        fresh_cache_.markers[key] = {got->etag.empty() ? obj->second.etag : got->etag, *existing};
        co_return *existing == digest;
    }

    bool local_marker_current(int dir, const std::string& digest) const
    {
        auto text = read_small_file(local_dir_of(dir) / cfg_.sync_marker_file);
        return text && marker_digest(*text) == digest;
    }

    void save_cache()
    {
        // Keep what is still true of markers not revisited this cycle.
        for (const auto& [key, m] : cache_.markers) {
            auto obj = remote_.find(key);
            if (obj != remote_.end() && obj->second.etag == m.etag)
                fresh_cache_.markers.try_emplace(key, m);
        }
        if (auto saved = write_marker_cache(cache_file_, fresh_cache_); !saved)
            log::warn("state", "marker cache not saved (" + saved.error().to_string() +
                                   "); the next cycle reads markers back from S3 instead");
    }

    // ---- report ---------------------------------------------------------------------------

    void finish_report()
    {
        if (!tracker_)
            return;
        std::vector<bool> marked(tree_.dirs.size());
        for (int d : marked_)
            marked[d] = true;
        report_.dirs_marked = marked_.size();
        report_.root_marked = marked[0];
        std::vector<int> unmarked;
        for (std::size_t d = 0; d < tree_.dirs.size(); ++d)
            if (!marked[d])
                unmarked.push_back(static_cast<int>(d));
        report_.dirs_unmarked = unmarked.size();
        for (int d : unmarked)
            report_.unmarked_dirs.push_back(tree_.dirs[d].rel);
        for (std::size_t i = 0; i < unmarked.size() && i < unmarked_listed; ++i) {
            const int d = unmarked[i];
            const auto& rel = tree_.dirs[d].rel;
            log::info("unmarked",
                      "not marked: " + (rel.empty() ? std::string("(root)") : log::quote(rel)) + ": " +
                          (reasons_[d].empty() ? std::string("not reached this cycle") : reasons_[d]),
                      {{"directory", rel}, {"reason", reasons_[d]}});
        }
        if (unmarked.size() > unmarked_listed)
            log::info("unmarked", "... and " + std::to_string(unmarked.size() - unmarked_listed) +
                                      " more unmarked directories");
    }

    static double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

    void log_summary()
    {
        const double secs = seconds(report_.elapsed);
        const double rate = secs > 0 ? static_cast<double>(report_.bytes_uploaded) / secs : 0;
        char line[640];
        std::snprintf(line, sizeof line,
                      "cycle %s in %.2f s: %llu files seen, %llu uploaded (%s), %llu verified, %llu pending, "
                      "%llu conflicts, %llu failed, %llu skipped; %llu markers written, %llu directories "
                      "marked, %llu unmarked; %s/s",
                      report_.fatal ? "stopped" : "finished", secs,
                      static_cast<unsigned long long>(report_.files_seen),
                      static_cast<unsigned long long>(report_.uploaded),
                      log::human_bytes(report_.bytes_uploaded).c_str(),
                      static_cast<unsigned long long>(report_.verified),
                      static_cast<unsigned long long>(report_.pending),
                      static_cast<unsigned long long>(report_.conflicts),
                      static_cast<unsigned long long>(report_.failed),
                      static_cast<unsigned long long>(report_.skipped),
                      static_cast<unsigned long long>(report_.markers_written),
                      static_cast<unsigned long long>(report_.dirs_marked),
                      static_cast<unsigned long long>(report_.dirs_unmarked),
                      log::human_bytes(static_cast<std::uint64_t>(rate)).c_str());
        log::info("cycle_end", line,
                  {{"files_seen", report_.files_seen}, {"uploaded", report_.uploaded},
                   {"bytes_uploaded", report_.bytes_uploaded}, {"verified", report_.verified},
                   {"pending", report_.pending}, {"conflicts", report_.conflicts}, {"failed", report_.failed},
                   {"skipped", report_.skipped}, {"markers_written", report_.markers_written},
                   {"dirs_marked", report_.dirs_marked}, {"dirs_unmarked", report_.dirs_unmarked},
                   {"duration_s", secs}, {"walk_s", seconds(report_.walk_time)},
                   {"list_s", seconds(report_.list_time)}, {"bytes_per_s", rate}, {"list_requests", report_.list_requests},
                   {"put_requests", report_.put_requests}, {"get_requests", report_.get_requests},
                   {"retries", report_.retries},
                   {"exit_status", static_cast<std::int64_t>(report_.exit_status())}});
    }

    s3::client& s3_;
    const config& cfg_;
    cycle_options opt_;
    const bool want_s3_;
    const bool want_local_;
    tree tree_;
    std::vector<dir_summary> summaries_;
    std::vector<std::string> reasons_;
    std::optional<marker_tracker> tracker_;
    remote_index remote_;
    std::filesystem::path cache_file_;
    marker_cache cache_;
    marker_cache fresh_cache_;
    std::deque<work_item> queue_;
    std::vector<int> marked_;
    byte_budget budget_{memory_budget};
    byte_budget part_slots_{within_concurrency(cfg_.part_concurrency, cfg_)};
    std::uint64_t uploads_started_ = 0;
    cycle_report report_;
};

} // namespace

asio::awaitable<cycle_report> run_cycle(s3::client& s3, const config& cfg, cycle_options opt)
{
    cycle c(s3, cfg, std::move(opt));
    co_return co_await c.run();
}

} // namespace syncd
