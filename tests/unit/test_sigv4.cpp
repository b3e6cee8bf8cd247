#include "core/crypto.hpp"
#include "core/text.hpp"
#include "core/uri.hpp"
#include "protocol/sigv4.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

using namespace syncd;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot read " << p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::chrono::system_clock::time_point parse_time(const std::string& iso) // 2015-08-30T12:36:00Z
{
    std::tm tm{};
    REQUIRE(sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec) == 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

using header = std::pair<std::string, std::string>;

// An HTTP request as the suite writes it: request line, headers (a line starting with whitespace
// continues the previous value), a blank line, the body. Headers keep their spelling, order and
// untrimmed values, so that writing them back gives the same text.
struct http_text {
    std::string method, target, version; // target as written: "/a b?x=%41"
    std::vector<header> headers;
    std::string body;
};

http_text parse_http(const std::string& text)
{
    http_text h;
    const auto header_end = text.find("\n\n");
    const auto head = text.substr(0, header_end);
    h.body = header_end == std::string::npos ? std::string() : text.substr(header_end + 2);
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    REQUIRE(sp1 < sp2);
    h.method = line.substr(0, sp1);
    h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    h.version = line.substr(sp2 + 1);
    while (std::getline(lines, line)) {
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
            REQUIRE(!h.headers.empty());
            h.headers.back().second += "\n" + line;
            continue;
        }
        const auto colon = line.find(':');
        REQUIRE(colon != std::string::npos);
        h.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
    return h;
}

std::string to_text(const http_text& h)
{
    std::string out = h.method + " " + h.target + " " + h.version + "\n";
    for (const auto& [name, value] : h.headers)
        out += name + ":" + value + "\n";
    return out + "\n" + h.body;
}

struct parsed_case {
    http_text http;
    sigv4::request req;
    sigv4::params params;
    bool sign_body = false;
    std::chrono::seconds expires{};
};

parsed_case parse_case(const fs::path& dir)
{
    parsed_case c;
    c.http = parse_http(slurp(dir / "request.txt"));
    c.req.method = c.http.method;
    c.req.headers = c.http.headers;
    c.req.path = c.http.target;
    if (auto q = c.http.target.find('?'); q != std::string::npos) {
        const std::string query = c.http.target.substr(q + 1);
        c.req.path.resize(q);
        std::size_t i = 0;
        while (i <= query.size() && !query.empty()) {
            auto amp = query.find('&', i);
            auto pair = query.substr(i, amp == std::string::npos ? std::string::npos : amp - i);
            auto eq = pair.find('=');
            auto name = uri::decode(pair.substr(0, eq));
            auto value = uri::decode(eq == std::string::npos ? "" : pair.substr(eq + 1));
            REQUIRE(name);
            REQUIRE(value);
            c.req.query.emplace_back(*name, *value);
            if (amp == std::string::npos)
                break;
            i = amp + 1;
        }
    }
    c.req.payload_hash = crypto::hex(crypto::sha256(c.http.body));

    const auto ctx = nlohmann::json::parse(slurp(dir / "context.json"));
    c.params.creds.access_key_id = ctx["credentials"]["access_key_id"];
    c.params.creds.secret_access_key = ctx["credentials"]["secret_access_key"];
    c.params.creds.session_token = ctx["credentials"].value("token", "");
    c.params.region = ctx["region"];
    c.params.service = ctx["service"];
    c.params.time = parse_time(ctx["timestamp"]);
    c.params.normalize_path = ctx.value("normalize", true);
    c.params.sign_session_token = !ctx.value("omit_session_token", false);
    c.sign_body = ctx.value("sign_body", false);
    c.expires = std::chrono::seconds(ctx.value("expiration_in_seconds", 0));
    return c;
}

// Runs check(case, folder) on every case folder of the suite that has the files of one form
// ("header" or "query"); returns how many there were.
template <class Check>
int for_each_case(const std::string& form, Check check)
{
    const fs::path suite = SIGV4_SUITE_DIR;
    REQUIRE_MESSAGE(fs::is_directory(suite), "SigV4 test suite missing at " << suite);
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(suite)) {
        if (!entry.is_directory() || !fs::exists(entry.path() / (form + "-signed-request.txt")))
            continue;
        const auto name = entry.path().filename().string();
        CAPTURE(name);
        check(parse_case(entry.path()), entry.path());
        ++cases;
    }
    return cases;
}

// What the signer added to the request that was itself signed: all but the signature and a
// session token added after signing (omit_session_token).
std::vector<header> signed_additions(const std::vector<header>& added, const sigv4::params& p,
                                     std::string_view signature_name)
{
    std::vector<header> out;
    for (const auto& a : added)
        if (!iequals_ascii(a.first, signature_name) &&
            (p.sign_session_token || !iequals_ascii(a.first, "X-Amz-Security-Token")))
            out.push_back(a);
    return out;
}

// The three stages of signing `as_signed` (the request with what the signer added to it before
// signing), each against the suite's file of one form, byte for byte.
void check_stages(const sigv4::request& as_signed, const sigv4::params& p, const fs::path& dir, const std::string& form)
{
    const auto creq = sigv4::canonical_request(as_signed, p);
    CHECK(creq == slurp(dir / (form + "-canonical-request.txt")));
    const auto sts = sigv4::string_to_sign(creq, p);
    CHECK(sts == slurp(dir / (form + "-string-to-sign.txt")));
    CHECK(sigv4::signature(sts, p) == slurp(dir / (form + "-signature.txt")));
}

// Header names compare without case, and the order of different headers means nothing in HTTP:
// the headers as (lower-case name, value), sorted, duplicates kept in their order.
std::vector<header> comparable(std::vector<header> headers)
{
    for (auto& h : headers)
        for (auto& ch : h.first)
            ch = ascii_lower(ch);
    std::stable_sort(headers.begin(), headers.end(),
                     [](const header& a, const header& b) { return a.first < b.first; });
    return headers;
}

} // namespace

// The suite's cases, counted so that a lost or unreadable folder fails the test instead of
// shrinking it: 38 cases, each in both forms.
constexpr int header_form_cases = 38;
constexpr int query_form_cases = 38;

TEST_CASE("sigv4: every case of the AWS test suite, header form")
{
    const int cases = for_each_case("header", [](parsed_case c, const fs::path& dir) {
        if (c.sign_body) // sign() signs the content hash header when the caller has put it in
            c.req.headers.emplace_back("X-Amz-Content-Sha256", c.req.payload_hash);
        const auto added = sigv4::sign(c.req, c.params);

        // Stage by stage: the request with the signing headers in it, as it was signed.
        auto signed_req = c.req;
        for (const auto& h : signed_additions(added, c.params, "Authorization"))
            signed_req.headers.push_back(h);
        check_stages(signed_req, c.params, dir, "header");

        // The signed request: the same headers with the same values byte for byte, though the
        // suite writes them in another order and case than sign() returns them; in the suite's
        // order, the whole request must then be its file byte for byte.
        const auto expected_text = slurp(dir / "header-signed-request.txt");
        const auto expected = parse_http(expected_text);
        auto ours = c.http;
        ours.headers = c.req.headers;
        ours.headers.insert(ours.headers.end(), added.begin(), added.end());
        CHECK(comparable(ours.headers) == comparable(expected.headers));
        ours.headers = expected.headers;
        CHECK(to_text(ours) == expected_text);
    });
    CHECK(cases == header_form_cases);
}

TEST_CASE("sigv4: every case of the AWS test suite, query-string (presigned) form")
{
    const int cases = for_each_case("query", [](const parsed_case& c, const fs::path& dir) {
        REQUIRE(c.expires.count() > 0);
        const auto added = sigv4::presign(c.req, c.params, c.expires);

        // Stage by stage: the request with the signing parameters in its query, as it was signed.
        auto signed_req = c.req;
        for (const auto& q : signed_additions(added, c.params, "X-Amz-Signature"))
            signed_req.query.push_back(q);
        check_stages(signed_req, c.params, dir, "query");

        // The presigned request, byte for byte: the target as written, then the added parameters,
        // each name and value encoded once, in presign()'s order; headers and body untouched.
        auto ours = c.http;
        for (const auto& [name, value] : added)
            ours.target += (ours.target.find('?') == std::string::npos ? "?" : "&") + uri::encode(name) + "=" +
                           uri::encode(value);
        CHECK(to_text(ours) == slurp(dir / "query-signed-request.txt"));
    });
    CHECK(cases == query_form_cases);
}

TEST_CASE("sigv4: S3 keys are encoded once, never normalised")
{
    CHECK(sigv4::canonical_uri("/bkt/a b+c%d~e#f?g'h(i)j*k", false) ==
          "/bkt/a%20b%2Bc%25d~e%23f%3Fg%27h%28i%29j%2Ak");
    CHECK(sigv4::canonical_uri("/bkt/é/😀", false) == "/bkt/%C3%A9/%F0%9F%98%80");
    CHECK(sigv4::canonical_uri("/bkt//x/./y/../z", false) == "/bkt//x/./y/../z");
    CHECK(sigv4::canonical_uri("/bkt//x/./y/../z", true) == "/bkt/x/z");
    CHECK(sigv4::canonical_uri("", false) == "/");
}

TEST_CASE("sigv4: S3 request signs host, content hash, date and session token")
{
    sigv4::request r;
    r.method = "PUT";
    r.path = "/bkt/dir/a b.txt";
    r.payload_hash = "UNSIGNED-PAYLOAD";
    r.headers = {{"host", "127.0.0.1:9000"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}, {"content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="}};
    sigv4::params p;
    p.creds = {"AKID", "SECRET", "TOKEN"};
    p.region = "eu-west-1";
    p.time = std::chrono::system_clock::from_time_t(1'700'000'000);
    const auto added = sigv4::sign(r, p);
    REQUIRE(added.size() == 3);
    CHECK(added[0] == std::pair<std::string, std::string>{"x-amz-date", "20231114T221320Z"});
    CHECK(added[1] == std::pair<std::string, std::string>{"x-amz-security-token", "TOKEN"});
    CHECK(added[2].first == "Authorization");
    CHECK(added[2].second.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20231114/eu-west-1/s3/aws4_request, "
                                      "SignedHeaders=content-md5;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="));
    // Any change to a signed part changes the signature.
    auto r2 = r;
    r2.path = "/bkt/dir/a+b.txt";
    CHECK(sigv4::sign(r2, p)[2].second != added[2].second);
    auto p2 = p;
    p2.creds.secret_access_key = "OTHER";
    CHECK(sigv4::sign(r, p2)[2].second != added[2].second);
}

TEST_CASE("sigv4: the signing key follows the day, region and secret of each request")
{
    // The key is derived once and reused while day, region, service and secret stay the same;
    // a change in any of them must be seen at once, and going back must give the first answer.
    sigv4::request r;
    r.method = "GET";
    r.path = "/bkt";
    r.payload_hash = "UNSIGNED-PAYLOAD";
    r.headers = {{"host", "example.com"}};
    sigv4::params p;
    p.creds = {"AKID", "SECRET", ""};
    p.region = "eu-west-1";
    p.time = std::chrono::system_clock::from_time_t(1'700'000'000); // 2023-11-14T22:13:20Z
    auto signature_of = [&](const sigv4::params& q) {
        const auto creq = sigv4::canonical_request(r, q);
        return sigv4::signature(sigv4::string_to_sign(creq, q), q);
    };
    const auto first = signature_of(p);
    auto same_day = p;
    same_day.time += std::chrono::seconds(3600); // 23:13, still the 14th: the date line changes only
    auto next_day = p;
    next_day.time += std::chrono::hours(2); // 00:13 on the 15th
    auto other_region = p;
    other_region.region = "us-east-1";
    auto other_secret = p;
    other_secret.creds.secret_access_key = "OTHER";
    CHECK(signature_of(same_day) != first);
    CHECK(signature_of(next_day) != first);
    CHECK(signature_of(other_region) != first);
    CHECK(signature_of(other_secret) != first);
    CHECK(signature_of(p) == first);
    // Known answer for the key itself, through the public steps: AWS's documented example
    // (secret wJalr..., 20150830, us-east-1, service iam), string to sign from its guide.
    sigv4::params aws;
    aws.creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    aws.region = "us-east-1";
    aws.service = "iam";
    aws.time = std::chrono::system_clock::from_time_t(1'440'938'160); // 2015-08-30T12:36:00Z
    CHECK(sigv4::signature("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                           "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
                           aws) == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST_CASE("sigv4: an S3 presigned URL, AWS's documented example")
{
    // The example of AWS's "Authenticating Requests: Using Query Parameters" page for S3: a GET of
    // examplebucket/test.txt, valid for a day, payload unsigned.
    sigv4::request r;
    r.method = "GET";
    r.path = "/test.txt";
    r.payload_hash = "UNSIGNED-PAYLOAD";
    r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    sigv4::params p;
    p.creds = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
    p.region = "us-east-1";
    p.time = std::chrono::system_clock::from_time_t(1'369'353'600); // 2013-05-24T00:00:00Z
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
        {"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"},
        {"X-Amz-Date", "20130524T000000Z"},
        {"X-Amz-SignedHeaders", "host"},
        {"X-Amz-Expires", "86400"},
        {"X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"},
    };
    CHECK(sigv4::presign(r, p, std::chrono::hours(24)) == expected);

    // A session token is signed (S3 wants it in the signed query), or added after signing when
    // the service wants that.
    p.creds.session_token = "TOKEN";
    const auto with_token = sigv4::presign(r, p, std::chrono::hours(24));
    REQUIRE(with_token.size() == 7);
    CHECK(with_token[5] == std::pair<std::string, std::string>{"X-Amz-Security-Token", "TOKEN"});
    auto unsigned_token = p;
    unsigned_token.sign_session_token = false;
    const auto after = sigv4::presign(r, unsigned_token, std::chrono::hours(24));
    REQUIRE(after.size() == 7);
    CHECK(after[5] == with_token[5]);
    CHECK(after[6].second != with_token[6].second);
    CHECK(after[6] == expected[5]); // the token is not part of what was signed
}
