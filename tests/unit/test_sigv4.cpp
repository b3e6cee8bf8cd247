#include "core/crypto.hpp"
#include "core/uri.hpp"
#include "protocol/sigv4.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

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

struct parsed_case {
    sigv4::request req;
    sigv4::params params;
};

// request.txt: request line, headers (a line starting with whitespace continues the previous
// value), a blank line, the body.
parsed_case parse_case(const fs::path& dir)
{
    parsed_case c;
    const auto text = slurp(dir / "request.txt");
    const auto header_end = text.find("\n\n");
    const auto head = text.substr(0, header_end);
    const auto body = header_end == std::string::npos ? std::string() : text.substr(header_end + 2);
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    c.req.method = line.substr(0, sp1);
    auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto q = target.find('?'); q != std::string::npos) {
        std::string query = target.substr(q + 1);
        target = target.substr(0, q);
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
    c.req.path = target;
    while (std::getline(lines, line)) {
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
            REQUIRE(!c.req.headers.empty());
            c.req.headers.back().second += "\n" + line;
            continue;
        }
        const auto colon = line.find(':');
        REQUIRE(colon != std::string::npos);
        c.req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }

    const auto ctx = nlohmann::json::parse(slurp(dir / "context.json"));
    c.params.creds.access_key_id = ctx["credentials"]["access_key_id"];
    c.params.creds.secret_access_key = ctx["credentials"]["secret_access_key"];
    c.params.creds.session_token = ctx["credentials"].value("token", "");
    c.params.region = ctx["region"];
    c.params.service = ctx["service"];
    c.params.time = parse_time(ctx["timestamp"]);
    c.params.normalize_path = ctx.value("normalize", true);
    c.params.sign_session_token = !ctx.value("omit_session_token", false);
    c.req.payload_hash = crypto::hex(crypto::sha256(body));
    if (ctx.value("sign_body", false))
        c.req.headers.emplace_back("X-Amz-Content-Sha256", c.req.payload_hash);
    return c;
}

std::string authorization_line(const std::string& signed_request)
{
    std::istringstream lines(signed_request);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with("Authorization:"))
            return line.substr(14);
    return {};
}

} // namespace

TEST_CASE("sigv4: every case of the AWS test suite, header form")
{
    const fs::path suite = SIGV4_SUITE_DIR;
    REQUIRE_MESSAGE(fs::is_directory(suite), "SigV4 test suite missing at " << suite);
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(suite)) {
        if (!entry.is_directory())
            continue;
        const auto name = entry.path().filename().string();
        CAPTURE(name);
        auto c = parse_case(entry.path());
        auto signed_req = c.req;
        signed_req.headers.emplace_back("X-Amz-Date", sigv4::amz_date(c.params.time));
        if (!c.params.creds.session_token.empty() && c.params.sign_session_token)
            signed_req.headers.emplace_back("X-Amz-Security-Token", c.params.creds.session_token);

        const auto creq = sigv4::canonical_request(signed_req, c.params);
        CHECK(creq == slurp(entry.path() / "header-canonical-request.txt"));
        const auto sts = sigv4::string_to_sign(creq, c.params);
        CHECK(sts == slurp(entry.path() / "header-string-to-sign.txt"));
        const auto sig = sigv4::signature(sts, c.params);
        CHECK(sig == slurp(entry.path() / "header-signature.txt"));

        std::string auth;
        for (const auto& [n, v] : sigv4::sign(c.req, c.params))
            if (n == "Authorization")
                auth = v;
        CHECK(auth == authorization_line(slurp(entry.path() / "header-signed-request.txt")));
        ++cases;
    }
    CHECK(cases == 38);
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
