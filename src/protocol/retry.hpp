// Which failures are retried, and after how long. Pure: the caller supplies randomness and time.
#pragma once

#include "core/errc.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace syncd::retry {

enum class kind {
    permanent,  // report once: AccessDenied, NoSuchBucket, bad credentials, certificate errors, ...
    transient,  // connection trouble, TLS handshakes, timeouts, malformed answers, 5xx,
                // RequestTimeout, BadDigest; and every error from outside syncd's category
    throttle,   // SlowDown and friends: back off, and slow the whole process down
    clock_skew, // re-sign with the server's clock and retry at once (after the usual backoff
                // when the answer has no Date header to read that clock from)
};

kind classify(const boost::system::error_code& code);

// Fatal errors end the whole cycle (exit 3): the endpoint, the bucket or the credentials are
// wrong, so every other request would fail the same way.
bool is_fatal(const boost::system::error_code& code);

struct policy {
    int max_attempts = 6;                        // first try included
    std::chrono::milliseconds base{100};
    std::chrono::milliseconds cap{10'000};
    // Connection-level failures (nothing listening, DNS) get fewer tries so an unreachable
    // endpoint is reported in seconds.
    int max_connect_attempts = 4;

    // Full jitter: a delay drawn uniformly from [0, min(cap, base * 2^retry)], where retry is 0
    // for the first retry. `random` is any uniformly distributed 64-bit value.
    std::chrono::milliseconds backoff(int retry, std::uint64_t random) const;

    // Whether attempt number `attempts_made` (1 = the first try has failed) may be followed by
    // another one for this error.
    bool should_retry(const boost::system::error_code& code, int attempts_made) const;
};

// The difference server clock minus local clock, from an HTTP Date header
// ("Tue, 24 Nov 2026 20:15:04 GMT"); nullopt if the header does not parse.
std::optional<std::chrono::seconds> clock_offset(std::string_view http_date,
                                                 std::chrono::system_clock::time_point local_now);

} // namespace syncd::retry
