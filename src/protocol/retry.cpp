#include "protocol/retry.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

namespace syncd::retry {

kind classify(const boost::system::error_code& code)
{
    if (code.category() != syncd_category())
        return kind::transient; // raw system/network errors
    switch (static_cast<errc>(code.value())) {
    case errc::connect_failed:
    case errc::resolve_failed:
    case errc::timeout:
    case errc::connection_closed:
    case errc::http_protocol:
    case errc::tls_failed:
    case errc::server_error:
    case errc::request_timeout:
    case errc::bad_digest: // the bytes were damaged on the way; sending them again may work
        return kind::transient;
    case errc::slow_down:
        return kind::throttle;
    case errc::clock_skew:
        return kind::clock_skew;
    default:
        return kind::permanent;
    }
}

bool is_fatal(const boost::system::error_code& code)
{
    if (code.category() != syncd_category())
        return false;
    switch (static_cast<errc>(code.value())) {
    case errc::resolve_failed:
    case errc::connect_failed:
    case errc::tls_failed:
    case errc::tls_verify_failed:
    case errc::access_denied:
    case errc::invalid_access_key:
    case errc::signature_mismatch:
    case errc::no_such_bucket:
        return true;
    default:
        return false;
    }
}

std::chrono::milliseconds policy::backoff(int retry, std::uint64_t random) const
{
    const int shift = std::clamp(retry, 0, 30);
    const auto ceiling = std::min<std::int64_t>(cap.count(), base.count() << shift);
    if (ceiling <= 0)
        return std::chrono::milliseconds{0};
    return std::chrono::milliseconds{static_cast<std::int64_t>(random % (ceiling + 1))};
}

bool policy::should_retry(const boost::system::error_code& code, int attempts_made) const
{
    if (classify(code) == kind::permanent)
        return false;
    const bool connection_level = code == make_error_code(errc::connect_failed) ||
                                  code == make_error_code(errc::resolve_failed);
    const int limit = connection_level ? max_connect_attempts : max_attempts;
    return attempts_made < limit;
}

std::optional<std::chrono::seconds> clock_offset(std::string_view http_date,
                                                 std::chrono::system_clock::time_point local_now)
{
    static constexpr std::array<const char*, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::string s(http_date);
    char wday[4] = {}, mon[4] = {}, zone[4] = {};
    int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
    if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", wday, &day, mon, &year, &hh, &mm,
                    &ss, zone) != 8 ||
        std::string_view(zone) != "GMT")
        return std::nullopt;
    auto it = std::find_if(months.begin(), months.end(),
                           [&](const char* m) { return std::string_view(m) == mon; });
    if (it == months.end() || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return std::nullopt;
    using namespace std::chrono;
    const auto ymd = year_month_day{std::chrono::year{year},
                                    std::chrono::month{static_cast<unsigned>(it - months.begin() + 1)},
                                    std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok())
        return std::nullopt;
    const auto server = sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss};
    return duration_cast<seconds>(server - floor<seconds>(local_now));
}

} // namespace syncd::retry
