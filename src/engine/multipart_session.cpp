#include "engine/multipart_session.hpp"

#include "protocol/etag.hpp"

#include <algorithm>
#include <utility>

namespace syncd::multipart {

namespace {

const char* const not_fitting = "left by an interrupted run; its parts do not fit the file as it is now";
const char* const not_checkable = "left by an interrupted run; with SSE-KMS its parts cannot be checked";
const char* const other_bytes = "it holds parts that differ from the file";

} // namespace

session::session(session_settings settings)
    : s_(std::move(settings)), digests_(s_.plan.count), etags_(s_.plan.count)
{
}

action session::resume(const event& e)
{
    return std::visit([this](const auto& ev) { return on(ev); }, e);
}

bool session::claimable() const
{
    return phase_ == phase::parts && next_ <= s_.plan.count && stop_ == stop_reason::none;
}

std::vector<s3::part_info> session::parts() const
{
    std::vector<s3::part_info> out;
    out.reserve(s_.plan.count);
    for (std::uint32_t n = 1; n <= s_.plan.count; ++n)
        out.push_back({n, etags_[n - 1], s_.plan.length(n)});
    return out;
}

std::string session::expected_etag() const
{
    return multipart_etag(digests_);
}

session_outcome session::outcome() const
{
    session_outcome out;
    out.stop = stop_;
    out.parts = s_.plan.count;
    out.parts_resumed = resumed_;
    switch (stop_) {
    case stop_reason::none: out.etag = etag_; break;
    case stop_reason::local: out.detail = detail_; break;
    case stop_reason::failed: out.failure = failure_; break;
    case stop_reason::shutdown:
    case stop_reason::stale: break;
    }
    return out;
}

// ---- looking for an interrupted upload ------------------------------------------------------

action session::on(const start&)
{
    phase_ = phase::listing;
    action a;
    a.what = action::list_uploads;
    return a;
}

action session::on(const uploads_listed& e)
{
    for (const auto& u : e.uploads)
        if (u.key == s_.key) // the listing is by prefix: only this very key is ours
            candidates_.push_back(u.upload_id);
    return next_candidate();
}

// Listing problems only cost the chance to resume, except a cancelled request: the client is
// shut down (end of the grace period), so nothing more can be sent.
action session::on(const uploads_not_listed& e)
{
    if (e.failure.code == make_error_code(errc::cancelled)) {
        fail(e.failure);
        return finish();
    }
    note said;
    said.what = note::uploads_not_listed;
    said.problem = e.failure.to_string();
    return begin_create(std::move(said));
}

action session::on(const parts_listed& e)
{
    auto fits = uploaded_parts(s_.plan, e.parts);
    if (!fits)
        return abort(std::exchange(probing_, {}), not_fitting);
    upload_id_ = std::exchange(probing_, {});
    uploaded_ = std::move(*fits);
    note said;
    said.what = note::resuming;
    said.upload_id = upload_id_;
    said.parts_present = static_cast<std::uint32_t>(
        std::count_if(uploaded_.begin(), uploaded_.end(), [](const std::string& etag) { return !etag.empty(); }));
    return next_candidate(std::move(said));
}

action session::on(const parts_not_listed& e)
{
    note said;
    said.what = note::parts_not_listed;
    said.upload_id = probing_;
    said.problem = e.failure.to_string();
    return abort(std::exchange(probing_, {}), not_fitting, std::move(said));
}

// The first upload of this key is continued when its parts fit the plan (each is still checked
// against the file's bytes when read); every other one is aborted. Once stopped, the rest are
// left to the next run.
action session::next_candidate(note said)
{
    if (stopped())
        return finish();
    while (next_candidate_ < candidates_.size()) {
        auto id = candidates_[next_candidate_++];
        if (s_.parts_checkable && upload_id_.empty()) {
            probing_ = std::move(id);
            action a;
            a.what = action::list_parts;
            a.upload_id = probing_;
            a.said = std::move(said);
            return a;
        }
        return abort(std::move(id), s_.parts_checkable ? not_fitting : not_checkable, std::move(said));
    }
    candidates_.clear();
    if (!upload_id_.empty()) {
        auto a = begin_parts();
        a.said = std::move(said);
        return a;
    }
    return begin_create(std::move(said));
}

action session::begin_create(note said)
{
    if (stopped())
        return finish();
    phase_ = phase::creating;
    action a;
    a.what = action::create;
    a.said = std::move(said);
    return a;
}

action session::on(const created& e)
{
    upload_id_ = e.upload_id;
    return begin_parts();
}

action session::on(const create_failed& e)
{
    fail(e.failure);
    return finish();
}

// ---- the parts ----------------------------------------------------------------------------

action session::begin_parts()
{
    if (stopped())
        return finish();
    phase_ = phase::parts;
    next_ = 1;
    action a;
    a.what = action::send_parts;
    a.workers = std::min(std::max(1u, s_.part_slots), s_.plan.count);
    return a;
}

action session::on(const part_wanted&)
{
    action a;
    if (!claimable()) {
        a.what = action::worker_done;
        return a;
    }
    a.what = action::hash_part;
    a.part = next_++;
    return a;
}

action session::on(const part_hashed& e)
{
    action a;
    a.what = action::next_part;
    if (!valid_part(e.part))
        return a;
    digests_[e.part - 1] = e.md5;
    if (!uploaded_.empty() && !uploaded_[e.part].empty()) {
        // Resuming: the part there is kept only when it holds these very bytes.
        if (uploaded_[e.part] != crypto::hex(e.md5)) {
            halt(stop_reason::stale);
            return a;
        }
        etags_[e.part - 1] = uploaded_[e.part];
        ++resumed_;
        return a;
    }
    a.what = action::send_part;
    a.part = e.part;
    a.upload_id = upload_id_;
    return a;
}

action session::on(const file_changed& e)
{
    halt(stop_reason::local, e.detail);
    action a;
    a.what = action::next_part;
    return a;
}

action session::on(const part_sent& e)
{
    if (valid_part(e.part))
        etags_[e.part - 1] = e.etag;
    action a;
    a.what = action::next_part;
    return a;
}

// The part is read again as it is sent: a file changed since it was hashed fails the server's
// Content-MD5 check or the ETag check, and then the change is what to report.
action session::on(const part_failed& e)
{
    if (!e.file_unchanged)
        halt(stop_reason::local, e.detail);
    else
        fail(e.failure);
    action a;
    a.what = action::next_part;
    return a;
}

// On shutdown the upload is aborted at once, within the grace period, rather than after the
// parts in flight: on a slow link they may outlast it. The upload stays held, so that it is
// aborted again once those parts have landed (S3 may need two aborts).
action session::on(const shutdown_requested&)
{
    shutdown_ = true;
    halt(stop_reason::shutdown);
    if (phase_ == phase::parts && stop_ == stop_reason::shutdown && !aborted_at_once_ && !upload_id_.empty()) {
        aborted_at_once_ = true;
        return abort(upload_id_, "shutting down");
    }
    return {};
}

action session::on(const parts_done&)
{
    if (phase_ != phase::parts)
        return {};
    if (stop_ == stop_reason::stale) {
        // The interrupted upload holds other bytes than the file has now: start over.
        phase_ = phase::replacing;
        note said;
        said.what = note::starting_over;
        said.upload_id = upload_id_;
        return abort(std::exchange(upload_id_, {}), other_bytes, std::move(said));
    }
    if (stop_ == stop_reason::none && next_ <= s_.plan.count) // the workers stopped with parts unclaimed: a bug
        fail(make_error(errc::cancelled, "the part workers stopped before every part was sent"));
    if (stopped())
        return finish();
    phase_ = phase::checking; // every part is read: the last check
    action a;
    a.what = action::check_file;
    return a;
}

action session::on(const file_checked& e)
{
    if (phase_ != phase::checking)
        return {};
    if (!e.unchanged)
        halt(stop_reason::local, e.detail);
    if (stopped())
        return finish();
    phase_ = phase::completing;
    action a;
    a.what = action::complete;
    a.upload_id = upload_id_;
    return a;
}

// ---- the end ------------------------------------------------------------------------------

action session::on(const completed& e)
{
    if (phase_ != phase::completing)
        return {};
    etag_ = e.etag;
    upload_id_.clear(); // completed: nothing to abort
    stop_ = stop_reason::none; // a shutdown told while completing does not undo the object
    action a;
    if (e.whole_object_md5) {
        // The server's ETag is the MD5 of the whole object, not comparable with the multipart
        // ETag of the parts: the file is read once more, whole, and its MD5 decides. The object
        // exists by now, so nothing told meanwhile (a shutdown) changes what the check finds.
        phase_ = phase::verifying;
        a.what = action::check_whole_md5;
        return a;
    }
    phase_ = phase::done;
    a.what = action::done;
    return a;
}

action session::on(const whole_md5_checked& e)
{
    if (phase_ != phase::verifying)
        return {};
    phase_ = phase::done;
    if (!e.unchanged) {
        // The file is no longer the one sent: the object is not verified (and cannot be, nor
        // aborted: it is completed); the next cycle sends the file as it is then.
        stop_ = stop_reason::local;
        detail_ = e.detail;
    } else {
        const auto local = crypto::hex(e.md5);
        const auto ev = s3::classify_etag(etag_, local, {}); // the server's encryption was checked already
        if (ev == s3::etag_evidence::equal) {
            stop_ = stop_reason::none;
        } else {
            stop_ = stop_reason::failed;
            failure_ = make_error(errc::integrity_mismatch,
                                  "completing the multipart upload of " + (s_.where.empty() ? s_.key : s_.where) +
                                      ": " + s3::describe_etag_evidence(ev, etag_, local) + " of the whole file");
        }
    }
    action a;
    a.what = action::done;
    return a;
}

action session::on(const completion_failed& e)
{
    fail(e.failure);
    return finish();
}

action session::on(const aborted&)
{
    switch (phase_) {
    case phase::listing:
        return next_candidate();
    case phase::replacing:
        stop_ = stop_reason::none;
        uploaded_.clear();
        resumed_ = 0;
        if (shutdown_) // told while the stale parts were settling: no new upload
            halt(stop_reason::shutdown);
        return begin_create();
    case phase::finishing: {
        phase_ = phase::done;
        action a;
        a.what = action::done;
        return a;
    }
    default:
        return {}; // the at-once abort of a shutdown: the parts phase goes on until parts_done
    }
}

// Aborts whatever upload is held, then done; with none held, done at once.
action session::finish()
{
    if (upload_id_.empty()) {
        phase_ = phase::done;
        action a;
        a.what = action::done;
        return a;
    }
    phase_ = phase::finishing;
    return abort(std::exchange(upload_id_, {}), why_stopped());
}

action session::abort(std::string id, std::string why, note said) const
{
    action a;
    a.what = action::abort;
    a.upload_id = std::move(id);
    a.why = std::move(why);
    a.said = std::move(said);
    return a;
}

void session::halt(stop_reason why, std::string detail)
{
    if (stop_ != stop_reason::none || phase_ == phase::done || phase_ == phase::verifying)
        return;
    stop_ = why;
    detail_ = std::move(detail);
}

void session::fail(const error& e)
{
    if (stop_ != stop_reason::none || phase_ == phase::done || phase_ == phase::verifying)
        return;
    stop_ = stop_reason::failed;
    failure_ = e;
}

std::string session::why_stopped() const
{
    switch (stop_) {
    case stop_reason::local: return "the file " + detail_;
    case stop_reason::failed: return failure_.to_string();
    case stop_reason::shutdown: return "shutting down";
    case stop_reason::stale: return other_bytes;
    case stop_reason::none: break;
    }
    return "not completed";
}

} // namespace syncd::multipart
