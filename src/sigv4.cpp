#include "syncd/sigv4.hpp"

#include "syncd/crypto.hpp"
#include "syncd/uri.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace syncd::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Trim, and fold every run of whitespace (including line breaks of folded values) into one space.
std::string canonical_value(std::string_view v)
{
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// RFC 3986 remove_dot_segments, plus collapsing of empty segments; keeps a trailing slash.
std::string normalize(std::string_view path)
{
    std::vector<std::string_view> segments;
    std::size_t i = 0;
    while (i <= path.size()) {
        const auto slash = path.find('/', i);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        const auto seg = path.substr(i, end - i);
        if (seg == "..") {
            if (!segments.empty())
                segments.pop_back();
        } else if (!seg.empty() && seg != ".") {
            segments.push_back(seg);
        }
        if (slash == std::string_view::npos)
            break;
        i = slash + 1;
    }
    std::string out;
    for (auto seg : segments) {
        out += '/';
        out += seg;
    }
    const bool trailing = !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
    if (out.empty() || (trailing && out.back() != '/'))
        out += '/';
    return out;
}

struct canonical_headers {
    std::string block;  // "name:value\n" lines
    std::string signed_names;
};

canonical_headers canonicalize_headers(const std::vector<std::pair<std::string, std::string>>& headers)
{
    // Stable sort keeps duplicate names in their order of appearance, which is how they are joined.
    std::vector<std::pair<std::string, std::string>> h;
    h.reserve(headers.size());
    for (const auto& [name, value] : headers)
        h.emplace_back(lower(name), canonical_value(value));
    std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    canonical_headers out;
    for (std::size_t i = 0; i < h.size(); ++i) {
        if (i > 0 && h[i].first == h[i - 1].first) {
            out.block.back() = ','; // replace the previous line's '\n'
            out.block += h[i].second + "\n";
            continue;
        }
        out.block += h[i].first + ":" + h[i].second + "\n";
        if (!out.signed_names.empty())
            out.signed_names += ';';
        out.signed_names += h[i].first;
    }
    return out;
}

// "YYYYMMDD" or "YYYYMMDDTHHMMSSZ" in UTC, written by hand: strftime consults the locale on every call.
std::string format_time(std::chrono::system_clock::time_point t, bool with_time)
{
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    std::string out(with_time ? 16 : 8, '0');
    auto put = [&out](std::size_t at, int value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10)
            out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    put(0, tm.tm_year + 1900, 4);
    put(4, tm.tm_mon + 1, 2);
    put(6, tm.tm_mday, 2);
    if (with_time) {
        out[8] = 'T';
        put(9, tm.tm_hour, 2);
        put(11, tm.tm_min, 2);
        put(13, tm.tm_sec, 2);
        out[15] = 'Z';
    }
    return out;
}

std::string scope(const params& p)
{
    return amz_day(p.time) + "/" + p.region + "/" + p.service + "/aws4_request";
}

std::span<const std::uint8_t> bytes(const crypto::sha256_digest& d) { return {d.data(), d.size()}; }

std::span<const std::uint8_t> bytes(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The request with the signing headers (x-amz-date, and the token when it is signed) added.
request with_signing_headers(const request& req, const params& p)
{
    request r = req;
    r.headers.emplace_back("x-amz-date", amz_date(p.time));
    if (!p.creds.session_token.empty() && p.sign_session_token)
        r.headers.emplace_back("x-amz-security-token", p.creds.session_token);
    return r;
}

} // namespace

std::string amz_date(std::chrono::system_clock::time_point t) { return format_time(t, true); }
std::string amz_day(std::chrono::system_clock::time_point t) { return format_time(t, false); }

std::string canonical_uri(std::string_view path, bool normalize_path)
{
    if (path.empty())
        return "/";
    return uri::encode(normalize_path ? normalize(path) : std::string(path), true);
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query)
{
    std::vector<std::pair<std::string, std::string>> q;
    q.reserve(query.size());
    for (const auto& [name, value] : query)
        q.emplace_back(uri::encode(name), uri::encode(value));
    std::sort(q.begin(), q.end());
    std::string out;
    for (const auto& [name, value] : q) {
        if (!out.empty())
            out += '&';
        out += name + "=" + value;
    }
    return out;
}

namespace {

std::string canonical_request(const request& req, const params& p, const canonical_headers& headers)
{
    return req.method + "\n" + canonical_uri(req.path, p.normalize_path) + "\n" + canonical_query(req.query) +
           "\n" + headers.block + "\n" + headers.signed_names + "\n" + req.payload_hash;
}

} // namespace

std::string canonical_request(const request& req, const params& p)
{
    return canonical_request(req, p, canonicalize_headers(req.headers));
}

std::string string_to_sign(std::string_view canonical_request, const params& p)
{
    return std::string(algorithm) + "\n" + amz_date(p.time) + "\n" + scope(p) + "\n" +
           crypto::hex(crypto::sha256(canonical_request));
}

namespace {

crypto::sha256_digest derive_signing_key(const params& p, const std::string& day)
{
    const std::string k = "AWS4" + p.creds.secret_access_key;
    auto key = crypto::hmac_sha256(bytes(k), day);
    key = crypto::hmac_sha256(bytes(key), p.region);
    key = crypto::hmac_sha256(bytes(key), p.service);
    return crypto::hmac_sha256(bytes(key), "aws4_request");
}

// The signing key depends only on the secret, the day, the region and the service, so it is
// derived once per day instead of with four HMACs per request. A memo, not state: the result is
// the same as deriving it every time.
crypto::sha256_digest signing_key(const params& p)
{
    struct memo {
        std::string secret, day, region, service;
        crypto::sha256_digest key{};
    };
    thread_local memo m;
    const auto day = amz_day(p.time);
    if (m.day != day || m.secret != p.creds.secret_access_key || m.region != p.region || m.service != p.service)
        m = {p.creds.secret_access_key, day, p.region, p.service, derive_signing_key(p, day)};
    return m.key;
}

} // namespace

std::string signature(std::string_view string_to_sign, const params& p)
{
    const auto key = signing_key(p);
    return crypto::hex(crypto::hmac_sha256(bytes(key), string_to_sign));
}

std::vector<std::pair<std::string, std::string>> sign(const request& req, const params& p)
{
    const auto r = with_signing_headers(req, p);
    const auto headers = canonicalize_headers(r.headers);
    const auto creq = canonical_request(r, p, headers);
    const auto sig = signature(string_to_sign(creq, p), p);
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("x-amz-date", amz_date(p.time));
    if (!p.creds.session_token.empty())
        out.emplace_back("x-amz-security-token", p.creds.session_token);
    out.emplace_back("Authorization", std::string(algorithm) + " Credential=" + p.creds.access_key_id + "/" +
                                          scope(p) + ", SignedHeaders=" + headers.signed_names +
                                          ", Signature=" + sig);
    return out;
}

} // namespace syncd::sigv4
