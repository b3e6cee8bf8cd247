#include "protocol/sigv4.hpp"

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "core/uri.hpp"

#include <algorithm>
#include <ctime>

namespace syncd::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

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

using header = std::pair<std::string, std::string>;

bool name_less(std::string_view a, std::string_view b)
{
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return ascii_lower(x) < ascii_lower(y); });
}

// Appends v trimmed, with every run of whitespace (including line breaks of folded values) folded
// into one space: the words of v, whole, one space between them.
void append_canonical_value(std::string& out, std::string_view v)
{
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    bool first = true;
    for (std::size_t i = 0; i < v.size();) {
        if (ws(v[i])) {
            ++i;
            continue;
        }
        auto end = i;
        while (end < v.size() && !ws(v[end]))
            ++end;
        if (!first)
            out += ' ';
        out.append(v.substr(i, end - i));
        first = false;
        i = end;
    }
}

// Appends name in lowercase.
void append_lower(std::string& out, std::string_view name)
{
    const auto at = out.size();
    out.append(name);
    for (auto i = at; i < out.size(); ++i)
        out[i] = ascii_lower(out[i]);
}

// The headers as sent plus the signing ones, without copying either list: sorted views, each
// name lowercased as it is written out.
canonical_headers canonicalize_headers(const std::vector<header>& headers, const std::vector<header>& extra = {})
{
    std::vector<const header*> h;
    h.reserve(headers.size() + extra.size());
    std::size_t size = 0;
    for (const auto* list : {&headers, &extra})
        for (const auto& e : *list) {
            h.push_back(&e);
            size += e.first.size() + e.second.size() + 2;
        }
    // Stable sort keeps duplicate names in their order of appearance, which is how they are joined.
    std::stable_sort(h.begin(), h.end(), [](const header* a, const header* b) { return name_less(a->first, b->first); });
    canonical_headers out;
    out.block.reserve(size);
    out.signed_names.reserve(size);
    for (std::size_t i = 0; i < h.size(); ++i) {
        if (i > 0 && iequals_ascii(h[i]->first, h[i - 1]->first)) {
            out.block.back() = ','; // replace the previous line's '\n'
        } else {
            if (!out.signed_names.empty())
                out.signed_names += ';';
            append_lower(out.block, h[i]->first);
            append_lower(out.signed_names, h[i]->first);
            out.block += ':';
        }
        append_canonical_value(out.block, h[i]->second);
        out.block += '\n';
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

std::string scope(const params& p, std::string_view day)
{
    std::string out;
    out.reserve(day.size() + p.region.size() + p.service.size() + 16);
    out.append(day).append("/").append(p.region).append("/").append(p.service).append("/aws4_request");
    return out;
}

std::span<const std::uint8_t> bytes(const crypto::sha256_digest& d) { return {d.data(), d.size()}; }

std::span<const std::uint8_t> bytes(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
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

namespace {

using query_param = std::pair<std::string, std::string>; // name, value; NOT encoded

// The request's own parameters plus the signing ones (presigned form), without copying either list.
std::string canonical_query(const std::vector<query_param>& query, const std::vector<query_param>& extra)
{
    std::vector<query_param> q; // encoded
    q.reserve(query.size() + extra.size());
    for (const auto* list : {&query, &extra})
        for (const auto& [name, value] : *list)
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

} // namespace

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query)
{
    return canonical_query(query, {});
}

namespace {

std::string canonical_request(const request& req, const params& p, std::string_view query,
                              const canonical_headers& headers)
{
    const auto uri = canonical_uri(req.path, p.normalize_path);
    std::string out;
    out.reserve(req.method.size() + uri.size() + query.size() + headers.block.size() +
                headers.signed_names.size() + req.payload_hash.size() + 5);
    out.append(req.method).append("\n").append(uri).append("\n").append(query).append("\n");
    out.append(headers.block).append("\n").append(headers.signed_names).append("\n").append(req.payload_hash);
    return out;
}

std::string string_to_sign(std::string_view canonical_request, std::string_view date, std::string_view scope)
{
    const auto hash = crypto::hex(crypto::sha256(canonical_request));
    std::string out;
    out.reserve(algorithm.size() + date.size() + scope.size() + hash.size() + 3);
    out.append(algorithm).append("\n").append(date).append("\n").append(scope).append("\n").append(hash);
    return out;
}

} // namespace

std::string canonical_request(const request& req, const params& p)
{
    return canonical_request(req, p, canonical_query(req.query), canonicalize_headers(req.headers));
}

std::string string_to_sign(std::string_view canonical_request, const params& p)
{
    return string_to_sign(canonical_request, amz_date(p.time), scope(p, amz_day(p.time)));
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
crypto::sha256_digest signing_key(const params& p, const std::string& day)
{
    struct memo {
        std::string secret, day, region, service;
        crypto::sha256_digest key{};
    };
    thread_local memo m;
    if (m.day != day || m.secret != p.creds.secret_access_key || m.region != p.region || m.service != p.service)
        m = {p.creds.secret_access_key, day, p.region, p.service, derive_signing_key(p, day)};
    return m.key;
}

std::string signature(std::string_view string_to_sign, const params& p, const std::string& day)
{
    const auto key = signing_key(p, day);
    return crypto::hex(crypto::hmac_sha256(bytes(key), string_to_sign));
}

} // namespace

std::string signature(std::string_view string_to_sign, const params& p)
{
    return signature(string_to_sign, p, amz_day(p.time));
}

namespace {

// When and under which scope one signing happens: computed once per request, used by every stage.
struct stamp {
    std::string date;  // "20150830T123600Z"
    std::string day;   // "20150830"
    std::string scope; // "20150830/us-east-1/s3/aws4_request"
};

stamp stamp_of(const params& p)
{
    stamp s;
    s.date = amz_date(p.time);
    s.day = s.date.substr(0, 8);
    s.scope = scope(p, s.day);
    return s;
}

// "AKID/20150830/us-east-1/s3/aws4_request": who signs, in the Authorization header's Credential=
// and in X-Amz-Credential.
std::string credential(const params& p, const stamp& s) { return p.creds.access_key_id + "/" + s.scope; }

// The one signer of both forms: canonical request -> string to sign -> signature. The forms
// differ only in where the signing values travel, so in what the caller put into the canonical
// query and headers.
std::string sign_stages(const request& req, const params& p, std::string_view query,
                        const canonical_headers& headers, const stamp& s)
{
    return signature(string_to_sign(canonical_request(req, p, query, headers), s.date, s.scope), p, s.day);
}

bool has_token(const params& p) { return !p.creds.session_token.empty(); }

} // namespace

std::vector<std::pair<std::string, std::string>> sign(const request& req, const params& p)
{
    // The signing headers are canonicalised beside the request's own instead of into a copy of
    // the request.
    const auto s = stamp_of(p);
    std::vector<header> out;
    out.reserve(3);
    out.emplace_back("x-amz-date", s.date);
    if (has_token(p) && p.sign_session_token)
        out.emplace_back("x-amz-security-token", p.creds.session_token);
    const auto headers = canonicalize_headers(req.headers, out);
    const auto sig = sign_stages(req, p, canonical_query(req.query), headers, s);
    if (has_token(p) && !p.sign_session_token)
        out.emplace_back("x-amz-security-token", p.creds.session_token);
    const auto cred = credential(p, s);
    std::string auth;
    auth.reserve(algorithm.size() + cred.size() + headers.signed_names.size() + sig.size() + 40);
    auth.append(algorithm).append(" Credential=").append(cred);
    auth.append(", SignedHeaders=").append(headers.signed_names).append(", Signature=").append(sig);
    out.emplace_back("Authorization", std::move(auth));
    return out;
}

std::vector<std::pair<std::string, std::string>> presign(const request& req, const params& p,
                                                         std::chrono::seconds expires)
{
    // The signing parameters are canonicalised beside the request's own, as sign() does with headers.
    const auto s = stamp_of(p);
    const auto headers = canonicalize_headers(req.headers);
    std::vector<query_param> out;
    out.reserve(7);
    out.emplace_back("X-Amz-Algorithm", algorithm);
    out.emplace_back("X-Amz-Credential", credential(p, s));
    out.emplace_back("X-Amz-Date", s.date);
    out.emplace_back("X-Amz-SignedHeaders", headers.signed_names);
    out.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
    if (has_token(p) && p.sign_session_token)
        out.emplace_back("X-Amz-Security-Token", p.creds.session_token);
    const auto sig = sign_stages(req, p, canonical_query(req.query, out), headers, s);
    if (has_token(p) && !p.sign_session_token)
        out.emplace_back("X-Amz-Security-Token", p.creds.session_token);
    out.emplace_back("X-Amz-Signature", sig);
    return out;
}

} // namespace syncd::sigv4
