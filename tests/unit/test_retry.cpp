#include "protocol/retry.hpp"

#include <doctest/doctest.h>

using namespace syncd;
using namespace std::chrono;

TEST_CASE("retry: errors are classified as docs/architecture.md \"Retries\" says")
{
    using retry::kind;
    CHECK(retry::classify(make_error_code(errc::connect_failed)) == kind::transient);
    CHECK(retry::classify(make_error_code(errc::timeout)) == kind::transient);
    CHECK(retry::classify(make_error_code(errc::server_error)) == kind::transient);
    CHECK(retry::classify(make_error_code(errc::request_timeout)) == kind::transient);
    CHECK(retry::classify(make_error_code(errc::slow_down)) == kind::throttle);
    CHECK(retry::classify(make_error_code(errc::clock_skew)) == kind::clock_skew);
    for (auto e : {errc::access_denied, errc::no_such_bucket, errc::invalid_access_key,
                   errc::signature_mismatch, errc::tls_verify_failed, errc::integrity_mismatch})
        CHECK(retry::classify(make_error_code(e)) == kind::permanent);
}

TEST_CASE("retry: permanent errors are never retried, transient ones up to the limit")
{
    retry::policy p;
    CHECK(!p.should_retry(make_error_code(errc::signature_mismatch), 1));
    CHECK(!p.should_retry(make_error_code(errc::no_such_bucket), 1));
    CHECK(p.should_retry(make_error_code(errc::server_error), 1));
    CHECK(p.should_retry(make_error_code(errc::server_error), p.max_attempts - 1));
    CHECK(!p.should_retry(make_error_code(errc::server_error), p.max_attempts));
    // An unreachable endpoint is given up on sooner.
    CHECK(p.should_retry(make_error_code(errc::connect_failed), p.max_connect_attempts - 1));
    CHECK(!p.should_retry(make_error_code(errc::connect_failed), p.max_connect_attempts));
}

TEST_CASE("retry: fatal errors are the ones that doom every request")
{
    CHECK(retry::is_fatal(make_error_code(errc::no_such_bucket)));
    CHECK(retry::is_fatal(make_error_code(errc::signature_mismatch)));
    CHECK(retry::is_fatal(make_error_code(errc::connect_failed)));
    CHECK(retry::is_fatal(make_error_code(errc::tls_verify_failed)));
    CHECK(!retry::is_fatal(make_error_code(errc::server_error)));
    CHECK(!retry::is_fatal(make_error_code(errc::bad_digest)));
}

TEST_CASE("retry: backoff is full jitter under an exponential, capped ceiling")
{
    retry::policy p;
    p.base = milliseconds{100};
    p.cap = milliseconds{1000};
    CHECK(p.backoff(0, 0) == milliseconds{0});
    CHECK(p.backoff(0, 100) == milliseconds{100});   // ceiling 100: 100 % 101
    CHECK(p.backoff(0, 101) == milliseconds{0});
    CHECK(p.backoff(1, 200) == milliseconds{200});   // ceiling 200
    CHECK(p.backoff(3, 800) == milliseconds{800});   // ceiling 800
    CHECK(p.backoff(4, 1000) == milliseconds{1000}); // ceiling capped at 1000
    CHECK(p.backoff(40, ~0ull) <= milliseconds{1000});
    // Every draw lies within [0, ceiling].
    for (std::uint64_t r = 0; r < 5000; r += 37)
        for (int i = 0; i < 8; ++i)
            CHECK(p.backoff(i, r * 2654435761u) <= std::min(p.cap, p.base * (1 << i)));
}

TEST_CASE("retry: clock offset comes from the server's Date header")
{
    const auto local = sys_days{year{2026} / 11 / 24} + hours{20} + minutes{15};
    auto off = retry::clock_offset("Tue, 24 Nov 2026 20:25:04 GMT", local);
    REQUIRE(off);
    CHECK(off->count() == 604);
    off = retry::clock_offset("Tue, 24 Nov 2026 20:14:00 GMT", local);
    REQUIRE(off);
    CHECK(off->count() == -60);
    CHECK(!retry::clock_offset("", local));
    CHECK(!retry::clock_offset("yesterday", local));
    CHECK(!retry::clock_offset("Tue, 31 Feb 2026 20:14:00 GMT", local));
    CHECK(!retry::clock_offset("Tue, 24 Nov 2026 20:14:00 CET", local));
}
