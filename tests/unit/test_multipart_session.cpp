// The multipart upload's decisions, step by step, without a socket: each event is what a
// request, read or fstat would have found, each CHECK the action the driver would carry out.
#include "core/crypto.hpp"
#include "engine/multipart_session.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <vector>

namespace syncd::multipart {
// How doctest shows an action in a failed CHECK.
std::ostream& operator<<(std::ostream& os, const action& a)
{
    return os << "action{what=" << static_cast<int>(a.what) << " part=" << a.part << " upload_id=" << a.upload_id
              << " why=" << a.why << "}";
}
} // namespace syncd::multipart

using namespace syncd;
using namespace syncd::multipart;

namespace {

constexpr std::uint64_t MiB = 1ull << 20;
const std::string key = "run1/big.bin";

// A 20 MiB file in 8 MiB parts: 8, 8 and 4 MiB.
session_settings settings(bool parts_checkable = true, unsigned part_slots = 8)
{
    return {key, *plan_parts(20 * MiB, 8 * MiB), parts_checkable, part_slots, {}};
}

crypto::md5_digest md5_of(std::uint32_t part)
{
    return crypto::md5("the bytes of part " + std::to_string(part));
}

std::string etag_of(std::uint32_t part)
{
    return crypto::hex(md5_of(part));
}

std::uint64_t size_of(std::uint32_t part)
{
    return part < 3 ? 8 * MiB : 4 * MiB;
}

error s3_error(errc code, std::string s3_code, unsigned status)
{
    auto e = make_error(code, "uploading part 2 of s3://bucket/" + key);
    e.s3_code = std::move(s3_code);
    e.http_status = status;
    return e;
}

uploads_listed listed_uploads(std::vector<s3::multipart_upload_info> uploads)
{
    return uploads_listed{std::move(uploads)};
}

// A fresh session up to its parts phase: nothing to resume, upload U1 created.
session created_upload(session_settings s = settings())
{
    session fsm(std::move(s));
    CHECK(fsm.resume(start{}) == action::list_uploads);
    CHECK(fsm.resume(listed_uploads({})) == action::create);
    const auto a = fsm.resume(created{"U1"});
    CHECK(a == action::send_parts);
    return fsm;
}

// One worker's round for part n: claimed, hashed, sent. The part is expected next in line.
void send(session& fsm, std::uint32_t n, const std::string& upload_id)
{
    const auto claim = fsm.resume(part_wanted{});
    REQUIRE(claim == action::hash_part);
    CHECK(claim.part == n);
    const auto sending = fsm.resume(part_hashed{n, md5_of(n)});
    REQUIRE(sending == action::send_part);
    CHECK(sending.part == n);
    CHECK(sending.upload_id == upload_id);
    CHECK(fsm.resume(part_sent{n, etag_of(n)}) == action::next_part);
}

// After the last part: every worker is told it is done, then the last check and the completion.
void complete(session& fsm, const std::string& upload_id)
{
    CHECK_FALSE(fsm.claimable());
    CHECK(fsm.resume(part_wanted{}) == action::worker_done);
    CHECK(fsm.resume(parts_done{}) == action::check_file);
    const auto a = fsm.resume(file_checked{true, ""});
    REQUIRE(a == action::complete);
    CHECK(a.upload_id == upload_id);
}

std::string expected_etag()
{
    const std::vector<crypto::md5_digest> md5s{md5_of(1), md5_of(2), md5_of(3)};
    return multipart_etag(md5s);
}

} // namespace

TEST_CASE("multipart session: a new upload goes list, create, parts, last check, complete")
{
    session fsm(settings());
    CHECK(fsm.resume(start{}) == action::list_uploads);
    // The listing is by prefix: an upload of another key under it is not ours.
    CHECK(fsm.resume(listed_uploads({{key + ".old", "X"}})) == action::create);
    const auto parts = fsm.resume(created{"U1"});
    REQUIRE(parts == action::send_parts);
    CHECK(parts.workers == 3); // 8 part slots, but only 3 parts

    // Parts are claimed in order by workers running side by side; they land in any order.
    CHECK(fsm.claimable());
    const auto first = fsm.resume(part_wanted{});
    const auto second = fsm.resume(part_wanted{});
    CHECK(first == action::hash_part);
    CHECK(first.part == 1);
    CHECK(second.part == 2);
    CHECK(fsm.resume(part_hashed{2, md5_of(2)}) == action::send_part);
    CHECK(fsm.resume(part_hashed{1, md5_of(1)}) == action::send_part);
    CHECK(fsm.resume(part_sent{2, etag_of(2)}) == action::next_part);
    send(fsm, 3, "U1");
    CHECK(fsm.resume(part_sent{1, etag_of(1)}) == action::next_part);
    CHECK(fsm.resume(part_wanted{}) == action::worker_done); // nothing left to claim
    complete(fsm, "U1");

    const auto listed = fsm.parts();
    REQUIRE(listed.size() == 3);
    for (std::uint32_t n = 1; n <= 3; ++n) {
        CHECK(listed[n - 1].number == n);
        CHECK(listed[n - 1].etag == etag_of(n));
        CHECK(listed[n - 1].size == size_of(n));
    }
    CHECK(fsm.expected_etag() == expected_etag());
    CHECK(fsm.resume(completed{expected_etag()}) == action::done);
    const auto out = fsm.outcome();
    CHECK(out.stop == stop_reason::none);
    CHECK(out.etag == expected_etag());
    CHECK(out.parts == 3);
    CHECK(out.parts_resumed == 0);
}

TEST_CASE("multipart session: part workers are as many as the part slots, at most one per part, at least one")
{
    session two(settings(true, 2));
    two.resume(start{});
    two.resume(listed_uploads({}));
    CHECK(two.resume(created{"U1"}).workers == 2);
    session none(settings(true, 0));
    none.resume(start{});
    none.resume(listed_uploads({}));
    CHECK(none.resume(created{"U1"}).workers == 1);
}

TEST_CASE("multipart session: workers that stop with parts unclaimed never lead to a completion")
{
    auto fsm = created_upload();
    send(fsm, 1, "U1");
    const auto a = fsm.resume(parts_done{});
    REQUIRE(a == action::abort);
    CHECK(a.upload_id == "U1");
    CHECK(fsm.resume(aborted{}) == action::done);
    CHECK(fsm.outcome().stop == stop_reason::failed);
}

TEST_CASE("multipart session: resume - the upload whose parts fit is continued, its parts checked and kept, the others aborted")
{
    session fsm(settings());
    CHECK(fsm.resume(start{}) == action::list_uploads);
    const auto probe = fsm.resume(listed_uploads({{key, "A"}, {key + "2", "Z"}, {key, "B"}}));
    REQUIRE(probe == action::list_parts);
    CHECK(probe.upload_id == "A");

    // A holds part 1 of the right size: it fits; B is aborted, Z (another key) left alone.
    const auto abort_b = fsm.resume(parts_listed{{{1, etag_of(1), 8 * MiB}}});
    REQUIRE(abort_b == action::abort);
    CHECK(abort_b.upload_id == "B");
    CHECK(abort_b.why == "left by an interrupted run; its parts do not fit the file as it is now");
    CHECK(abort_b.said.what == note::resuming);
    CHECK(abort_b.said.upload_id == "A");
    CHECK(abort_b.said.parts_present == 1);
    const auto parts = fsm.resume(aborted{});
    CHECK(parts == action::send_parts); // no CreateMultipartUpload: A is continued

    // Part 1 is read and matches what A holds: kept, not sent again.
    const auto claim = fsm.resume(part_wanted{});
    CHECK(claim.part == 1);
    CHECK(fsm.resume(part_hashed{1, md5_of(1)}) == action::next_part);
    send(fsm, 2, "A");
    send(fsm, 3, "A");
    complete(fsm, "A");
    CHECK(fsm.parts()[0].etag == etag_of(1));
    CHECK(fsm.expected_etag() == expected_etag());
    CHECK(fsm.resume(completed{expected_etag()}) == action::done);
    CHECK(fsm.outcome().stop == stop_reason::none);
    CHECK(fsm.outcome().parts_resumed == 1);
}

TEST_CASE("multipart session: resume - uploads whose parts do not fit the plan are aborted, the next one is tried")
{
    session fsm(settings());
    fsm.resume(start{});
    CHECK(fsm.resume(listed_uploads({{key, "A"}, {key, "B"}, {key, "C"}})).upload_id == "A");
    // A's part 1 is 6 MiB, not 8: another part size, so not this file's plan.
    auto a = fsm.resume(parts_listed{{{1, etag_of(1), 6 * MiB}}});
    REQUIRE(a == action::abort);
    CHECK(a.upload_id == "A");
    a = fsm.resume(aborted{});
    REQUIRE(a == action::list_parts);
    CHECK(a.upload_id == "B");
    // B holds a part number beyond the plan's 3.
    a = fsm.resume(parts_listed{{{4, etag_of(1), 4 * MiB}}});
    CHECK(a == action::abort);
    CHECK(a.upload_id == "B");
    a = fsm.resume(aborted{});
    CHECK(a.upload_id == "C");
    // C's parts cannot be listed: it is not resumed (a warning), and aborted.
    a = fsm.resume(parts_not_listed{s3_error(errc::access_denied, "AccessDenied", 403)});
    REQUIRE(a == action::abort);
    CHECK(a.upload_id == "C");
    CHECK(a.said.what == note::parts_not_listed);
    CHECK(a.said.upload_id == "C");
    CHECK(a.said.problem.find("AccessDenied") != std::string::npos);
    CHECK(fsm.resume(aborted{}) == action::create);
}

TEST_CASE("multipart session: resume - an upload without parts fits, every part is then sent")
{
    session fsm(settings());
    fsm.resume(start{});
    fsm.resume(listed_uploads({{key, "A"}}));
    const auto a = fsm.resume(parts_listed{{}});
    REQUIRE(a == action::send_parts);
    CHECK(a.said.what == note::resuming);
    CHECK(a.said.parts_present == 0);
    send(fsm, 1, "A");
    send(fsm, 2, "A");
    send(fsm, 3, "A");
    complete(fsm, "A");
}

TEST_CASE("multipart session: stale part - a resumed part holding other bytes stops the upload; it is aborted and the file sent anew")
{
    session fsm(settings());
    fsm.resume(start{});
    fsm.resume(listed_uploads({{key, "A"}}));
    // A holds parts 1 and 2; part 2 holds other bytes than the file has now.
    CHECK(fsm.resume(parts_listed{{{1, etag_of(1), 8 * MiB}, {2, etag_of(7), 8 * MiB}}}) == action::send_parts);
    CHECK(fsm.resume(part_wanted{}).part == 1);
    CHECK(fsm.resume(part_wanted{}).part == 2);
    CHECK(fsm.resume(part_hashed{2, md5_of(2)}) == action::next_part); // does not match: stop
    CHECK_FALSE(fsm.claimable());
    CHECK(fsm.resume(part_wanted{}) == action::worker_done); // part 3 is not claimed
    CHECK(fsm.resume(part_hashed{1, md5_of(1)}) == action::next_part);
    const auto a = fsm.resume(parts_done{});
    REQUIRE(a == action::abort);
    CHECK(a.upload_id == "A");
    CHECK(a.why == "it holds parts that differ from the file");
    CHECK(a.said.what == note::starting_over);
    CHECK(fsm.resume(aborted{}) == action::create);
    CHECK(fsm.resume(created{"U2"}) == action::send_parts);
    // Everything is read and sent again, part 1 included: nothing of A is kept.
    send(fsm, 1, "U2");
    send(fsm, 2, "U2");
    send(fsm, 3, "U2");
    complete(fsm, "U2");
    CHECK(fsm.expected_etag() == expected_etag());
    CHECK(fsm.resume(completed{expected_etag()}) == action::done);
    CHECK(fsm.outcome().stop == stop_reason::none);
    CHECK(fsm.outcome().parts_resumed == 0);
}

TEST_CASE("multipart session: file changed mid-upload - no part is claimed after, the upload is aborted, the outcome is the local change")
{
    auto fsm = created_upload();
    const auto one = fsm.resume(part_wanted{});
    CHECK(fsm.resume(part_hashed{one.part, md5_of(1)}) == action::send_part); // part 1 in flight
    const auto two = fsm.resume(part_wanted{});
    CHECK(fsm.resume(file_changed{two.part, "changed while it was read"}) == action::next_part);
    CHECK(fsm.stopped());
    CHECK(fsm.resume(part_wanted{}) == action::worker_done);
    CHECK(fsm.resume(part_sent{1, etag_of(1)}) == action::next_part); // lands after: still aborted
    const auto a = fsm.resume(parts_done{});
    REQUIRE(a == action::abort);
    CHECK(a.upload_id == "U1");
    CHECK(a.why == "the file changed while it was read");
    CHECK(fsm.resume(aborted{}) == action::done);
    const auto out = fsm.outcome();
    CHECK(out.stop == stop_reason::local);
    CHECK(out.detail == "changed while it was read");
}

TEST_CASE("multipart session: file changed - found by the last check, or as the cause of a part's failure")
{
    SUBCASE("the last check (fstat after every part is read)")
    {
        auto fsm = created_upload();
        send(fsm, 1, "U1");
        send(fsm, 2, "U1");
        send(fsm, 3, "U1");
        CHECK(fsm.resume(parts_done{}) == action::check_file);
        const auto a = fsm.resume(file_checked{false, "changed while it was read"});
        REQUIRE(a == action::abort);
        CHECK(a.upload_id == "U1");
        CHECK(fsm.resume(aborted{}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::local);
    }
    SUBCASE("a part refused (BadDigest) while the file no longer is the walk's is the local change, not a failure")
    {
        auto fsm = created_upload();
        fsm.resume(part_wanted{});
        fsm.resume(part_hashed{1, md5_of(1)});
        CHECK(fsm.resume(part_failed{1, s3_error(errc::bad_digest, "BadDigest", 400), false, "changed while it was read"}) ==
              action::next_part);
        CHECK(fsm.resume(parts_done{}).why == "the file changed while it was read");
        fsm.resume(aborted{});
        CHECK(fsm.outcome().stop == stop_reason::local);
    }
}

TEST_CASE("multipart session: a part failing after its retries stops the others and aborts the upload with its error")
{
    auto fsm = created_upload();
    send(fsm, 1, "U1");
    fsm.resume(part_wanted{});
    fsm.resume(part_hashed{2, md5_of(2)});
    const auto failure = s3_error(errc::s3_other, "InvalidArgument", 400);
    CHECK_FALSE(fsm.stopped()); // until it fails, a part may be retried
    CHECK(fsm.resume(part_failed{2, failure, true, ""}) == action::next_part);
    CHECK(fsm.stopped()); // a part still out is not retried any more
    CHECK(fsm.resume(part_wanted{}) == action::worker_done);
    const auto a = fsm.resume(parts_done{});
    REQUIRE(a == action::abort);
    CHECK(a.why == failure.to_string());
    CHECK(fsm.resume(aborted{}) == action::done);
    const auto out = fsm.outcome();
    CHECK(out.stop == stop_reason::failed);
    CHECK(out.failure.s3_code == "InvalidArgument");
}

TEST_CASE("multipart session: shutdown - the abort goes out at once, and again once the parts in flight have landed")
{
    auto fsm = created_upload();
    fsm.resume(part_wanted{});
    CHECK(fsm.resume(part_hashed{1, md5_of(1)}) == action::send_part);
    fsm.resume(part_wanted{});
    CHECK(fsm.resume(part_hashed{2, md5_of(2)}) == action::send_part); // two parts in flight

    const auto at_once = fsm.resume(shutdown_requested{});
    REQUIRE(at_once == action::abort);
    CHECK(at_once.upload_id == "U1");
    CHECK(at_once.why == "shutting down");
    CHECK(fsm.resume(aborted{}) == action::none);           // the parts phase goes on
    CHECK(fsm.resume(shutdown_requested{}) == action::none); // told twice: one abort at once
    CHECK_FALSE(fsm.claimable());
    CHECK(fsm.resume(part_wanted{}) == action::worker_done);
    // The parts in flight land: one refused (the upload is gone), one stored after the abort.
    CHECK(fsm.resume(part_failed{1, s3_error(errc::no_such_upload, "NoSuchUpload", 404), true, ""}) == action::next_part);
    CHECK(fsm.resume(part_sent{2, etag_of(2)}) == action::next_part);
    const auto again = fsm.resume(parts_done{});
    REQUIRE(again == action::abort);
    CHECK(again.upload_id == "U1");
    CHECK(again.why == "shutting down");
    CHECK(fsm.resume(aborted{}) == action::done);
    CHECK(fsm.outcome().stop == stop_reason::shutdown); // the first reason wins over the part's failure
}

TEST_CASE("multipart session: shutdown outside the parts phase")
{
    SUBCASE("while listing: no upload is created")
    {
        session fsm(settings());
        fsm.resume(start{});
        CHECK(fsm.resume(shutdown_requested{}) == action::none);
        CHECK(fsm.resume(listed_uploads({})) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::shutdown);
    }
    SUBCASE("while creating: the new upload is aborted, once (no part is out)")
    {
        session fsm(settings());
        fsm.resume(start{});
        fsm.resume(listed_uploads({}));
        CHECK(fsm.resume(shutdown_requested{}) == action::none);
        const auto a = fsm.resume(created{"U1"});
        REQUIRE(a == action::abort);
        CHECK(a.upload_id == "U1");
        CHECK(fsm.resume(aborted{}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::shutdown);
    }
    SUBCASE("while completing: an object stored is stored")
    {
        auto fsm = created_upload();
        send(fsm, 1, "U1");
        send(fsm, 2, "U1");
        send(fsm, 3, "U1");
        complete(fsm, "U1");
        CHECK(fsm.resume(shutdown_requested{}) == action::none);
        CHECK(fsm.resume(completed{expected_etag()}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::none);
        CHECK(fsm.outcome().etag == expected_etag());
    }
    SUBCASE("after another reason to stop: no abort at once, the first reason is the outcome")
    {
        auto fsm = created_upload();
        fsm.resume(part_wanted{});
        fsm.resume(file_changed{1, "changed while it was read"});
        CHECK(fsm.resume(shutdown_requested{}) == action::none);
        CHECK(fsm.resume(parts_done{}) == action::abort);
        CHECK(fsm.resume(aborted{}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::local);
    }
    SUBCASE("while a stale upload's parts settle: it is aborted and no new upload is started")
    {
        session fsm(settings());
        fsm.resume(start{});
        fsm.resume(listed_uploads({{key, "A"}}));
        fsm.resume(parts_listed{{{1, etag_of(7), 8 * MiB}}});
        fsm.resume(part_wanted{});
        fsm.resume(part_hashed{1, md5_of(1)}); // stale
        CHECK(fsm.resume(shutdown_requested{}) == action::none);
        const auto a = fsm.resume(parts_done{});
        CHECK(a.upload_id == "A");
        CHECK(fsm.resume(aborted{}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::shutdown);
    }
}

TEST_CASE("multipart session: completion - an answer lost and confirmed from the listing completes; NoSuchUpload otherwise fails")
{
    SUBCASE("the retry found the upload gone and the listing holds the object with the expected ETag (s3::client)")
    {
        auto fsm = created_upload();
        send(fsm, 1, "U1");
        send(fsm, 2, "U1");
        send(fsm, 3, "U1");
        complete(fsm, "U1");
        CHECK(fsm.resume(completed{expected_etag()}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::none);
    }
    SUBCASE("gone, and not proven by the listing: the failure is reported and the upload aborted (a no-op if gone)")
    {
        auto fsm = created_upload();
        send(fsm, 1, "U1");
        send(fsm, 2, "U1");
        send(fsm, 3, "U1");
        complete(fsm, "U1");
        const auto gone = s3_error(errc::no_such_upload, "NoSuchUpload", 404);
        const auto a = fsm.resume(completion_failed{gone});
        REQUIRE(a == action::abort);
        CHECK(a.upload_id == "U1");
        CHECK(a.why == gone.to_string());
        CHECK(fsm.resume(aborted{}) == action::done);
        const auto out = fsm.outcome();
        CHECK(out.stop == stop_reason::failed);
        CHECK(out.failure.code == make_error_code(errc::no_such_upload));
    }
}

TEST_CASE("multipart session: SSE-KMS - parts cannot be checked, so interrupted uploads are aborted, never resumed")
{
    session fsm(settings(false));
    fsm.resume(start{});
    auto a = fsm.resume(listed_uploads({{key, "A"}, {key, "B"}}));
    REQUIRE(a == action::abort); // no ListParts
    CHECK(a.upload_id == "A");
    CHECK(a.why == "left by an interrupted run; with SSE-KMS its parts cannot be checked");
    a = fsm.resume(aborted{});
    CHECK(a == action::abort);
    CHECK(a.upload_id == "B");
    CHECK(fsm.resume(aborted{}) == action::create);
}

TEST_CASE("multipart session: listing and creating fail")
{
    SUBCASE("the interrupted uploads cannot be listed: a new upload, with a warning")
    {
        session fsm(settings());
        fsm.resume(start{});
        const auto a = fsm.resume(uploads_not_listed{s3_error(errc::access_denied, "AccessDenied", 403)});
        REQUIRE(a == action::create);
        CHECK(a.said.what == note::uploads_not_listed);
        CHECK(a.said.problem.find("AccessDenied") != std::string::npos);
    }
    SUBCASE("the listing was cancelled (the grace period is over): nothing more is sent")
    {
        session fsm(settings());
        fsm.resume(start{});
        CHECK(fsm.resume(uploads_not_listed{make_error(errc::cancelled, "listing")}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::failed);
        CHECK(fsm.outcome().failure.code == make_error_code(errc::cancelled));
    }
    SUBCASE("CreateMultipartUpload fails: nothing to abort")
    {
        session fsm(settings());
        fsm.resume(start{});
        fsm.resume(listed_uploads({}));
        CHECK(fsm.resume(create_failed{s3_error(errc::access_denied, "AccessDenied", 403)}) == action::done);
        CHECK(fsm.outcome().stop == stop_reason::failed);
        CHECK(fsm.outcome().failure.s3_code == "AccessDenied");
    }
}

TEST_CASE("multipart session: a completion answered with a plain MD5 is checked against the whole file's MD5")
{
    // s3rver and some gateways answer CompleteMultipartUpload with the MD5 of the whole object:
    // evidence only once the file, read whole once more, has that MD5.
    const auto whole = crypto::md5("the whole file");
    const auto whole_hex = crypto::hex(whole);
    const auto other_hex = crypto::hex(crypto::md5("other bytes"));
    session_settings s = settings();
    s.where = "s3://bucket/" + key;
    auto fsm = created_upload(s);
    send(fsm, 1, "U1");
    send(fsm, 2, "U1");
    send(fsm, 3, "U1");
    complete(fsm, "U1");
    const auto check = fsm.resume(completed{whole_hex, true});
    REQUIRE(check == action::check_whole_md5);
    CHECK(check.upload_id.empty()); // the object is completed: nothing is held, nothing to abort

    SUBCASE("equal: done, the object's ETag is the outcome")
    {
        CHECK(fsm.resume(whole_md5_checked{whole, true, ""}) == action::done);
        const auto out = fsm.outcome();
        CHECK(out.stop == stop_reason::none);
        CHECK(out.etag == whole_hex);
        CHECK(out.parts == 3);
    }
    SUBCASE("different: the upload fails with integrity_mismatch naming both values; no abort")
    {
        CHECK(fsm.resume(whole_md5_checked{crypto::md5("other bytes"), true, ""}) == action::done);
        const auto out = fsm.outcome();
        CHECK(out.stop == stop_reason::failed);
        CHECK(out.failure.code == make_error_code(errc::integrity_mismatch));
        CHECK(out.failure.message.find(whole_hex) != std::string::npos);
        CHECK(out.failure.message.find(other_hex) != std::string::npos);
        CHECK(out.failure.message.find("s3://bucket/" + key) != std::string::npos);
        CHECK(out.failure.message.find("differs from the local MD5 " + other_hex) != std::string::npos);
        CHECK(out.etag.empty());
    }
    SUBCASE("the file changed meanwhile: the local change is the outcome, whatever the MD5")
    {
        CHECK(fsm.resume(whole_md5_checked{whole, false, "changed while it was read"}) == action::done);
        const auto out = fsm.outcome();
        CHECK(out.stop == stop_reason::local);
        CHECK(out.detail == "changed while it was read");
        CHECK(out.etag.empty());
    }
    SUBCASE("a shutdown during the check: the check's result still decides (the object exists)")
    {
        CHECK(fsm.resume(shutdown_requested{}) == action::none);
        SUBCASE("equal")
        {
            CHECK(fsm.resume(whole_md5_checked{whole, true, ""}) == action::done);
            CHECK(fsm.outcome().stop == stop_reason::none);
            CHECK(fsm.outcome().etag == whole_hex);
        }
        SUBCASE("different")
        {
            CHECK(fsm.resume(whole_md5_checked{crypto::md5("other bytes"), true, ""}) == action::done);
            CHECK(fsm.outcome().stop == stop_reason::failed);
            CHECK(fsm.outcome().failure.code == make_error_code(errc::integrity_mismatch));
        }
    }
    SUBCASE("a server ETag in upper case is the same MD5")
    {
        session upper(settings());
        CHECK(upper.resume(start{}) == action::list_uploads);
        CHECK(upper.resume(listed_uploads({})) == action::create);
        CHECK(upper.resume(created{"U2"}) == action::send_parts);
        send(upper, 1, "U2");
        send(upper, 2, "U2");
        send(upper, 3, "U2");
        complete(upper, "U2");
        std::string shouted = whole_hex;
        for (auto& c : shouted)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        CHECK(upper.resume(completed{shouted, true}) == action::check_whole_md5);
        CHECK(upper.resume(whole_md5_checked{whole, true, ""}) == action::done);
        CHECK(upper.outcome().stop == stop_reason::none);
    }
}

TEST_CASE("multipart session: a multipart ETag completion needs no whole-file read")
{
    auto fsm = created_upload();
    send(fsm, 1, "U1");
    send(fsm, 2, "U1");
    send(fsm, 3, "U1");
    complete(fsm, "U1");
    CHECK(fsm.resume(completed{expected_etag(), false}) == action::done);
    // A stray check result after done changes nothing.
    CHECK(fsm.resume(whole_md5_checked{crypto::md5("x"), true, ""}) == action::none);
    CHECK(fsm.outcome().stop == stop_reason::none);
    CHECK(fsm.outcome().etag == expected_etag());
}
