#include "syncd/s3_xml.hpp"

#include "syncd/uri.hpp"

#include <pugixml.hpp>

#include <charconv>

namespace syncd::s3 {
namespace {

bool load(pugi::xml_document& doc, std::string_view xml)
{
    return doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
}

std::string text(const pugi::xml_node& node, const char* child)
{
    return node.child(child).text().as_string();
}

} // namespace

std::string unquote_etag(std::string s)
{
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
        return s.substr(1, s.size() - 2);
    return s;
}

result<list_page> parse_list_objects_v2(std::string_view xml)
{
    pugi::xml_document doc;
    if (!load(doc, xml))
        return make_error(errc::http_protocol, "ListObjectsV2: response is not XML");
    auto root = doc.child("ListBucketResult");
    if (!root)
        return make_error(errc::http_protocol, "ListObjectsV2: no ListBucketResult in response");

    const bool url_encoded = text(root, "EncodingType") == "url";
    auto decode = [&](std::string s) -> std::optional<std::string> {
        if (!url_encoded)
            return s;
        return uri::decode(s, true);
    };

    list_page page;
    for (auto c : root.children("Contents")) {
        object_info obj;
        auto key = decode(text(c, "Key"));
        if (!key)
            return make_error(errc::http_protocol, "ListObjectsV2: malformed encoded key");
        obj.key = std::move(*key);
        auto size = text(c, "Size");
        auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), obj.size);
        if (ec != std::errc() || end != size.data() + size.size())
            return make_error(errc::http_protocol, "ListObjectsV2: bad <Size> for " + obj.key);
        obj.etag = unquote_etag(text(c, "ETag"));
        page.objects.push_back(std::move(obj));
    }
    for (auto p : root.children("CommonPrefixes")) {
        auto prefix = decode(text(p, "Prefix"));
        if (!prefix)
            return make_error(errc::http_protocol, "ListObjectsV2: malformed encoded prefix");
        page.common_prefixes.push_back(std::move(*prefix));
    }
    page.truncated = text(root, "IsTruncated") == "true";
    page.next_continuation_token = text(root, "NextContinuationToken");
    if (page.truncated && page.next_continuation_token.empty())
        return make_error(errc::http_protocol,
                          "ListObjectsV2: truncated listing without a continuation token");
    return page;
}

std::optional<error_body> parse_error(std::string_view xml)
{
    pugi::xml_document doc;
    if (xml.empty() || !load(doc, xml))
        return std::nullopt;
    auto root = doc.child("Error");
    if (!root)
        return std::nullopt;
    error_body e;
    e.code = text(root, "Code");
    e.message = text(root, "Message");
    e.request_id = text(root, "RequestId");
    e.resource = text(root, "Resource");
    return e;
}

errc classify(std::string_view code, unsigned status)
{
    if (code == "AccessDenied" || code == "AllAccessDisabled" || code == "AccountProblem")
        return errc::access_denied;
    if (code == "InvalidAccessKeyId" || code == "InvalidToken" || code == "ExpiredToken" ||
        code == "TokenRefreshRequired" || code == "InvalidSecurity")
        return errc::invalid_access_key;
    if (code == "SignatureDoesNotMatch")
        return errc::signature_mismatch;
    if (code == "NoSuchBucket")
        return errc::no_such_bucket;
    if (code == "NoSuchKey")
        return errc::no_such_key;
    if (code == "BadDigest" || code == "InvalidDigest")
        return errc::bad_digest;
    if (code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" ||
        code == "RequestLimitExceeded" || code == "TooManyRequests" || code == "ServiceUnavailable" ||
        code == "RequestThrottled" || code == "TooManyRequestsException" || status == 429)
        return errc::slow_down;
    if (code == "RequestTimeout")
        return errc::request_timeout;
    if (code == "RequestTimeTooSkewed" || code == "RequestExpired")
        return errc::clock_skew;
    if (code == "InternalError" || (code.empty() && status >= 500))
        return errc::server_error;
    if (code.empty() && status == 403)
        return errc::access_denied;
    if (code.empty() && status == 404)
        return errc::no_such_key;
    return errc::s3_other;
}

} // namespace syncd::s3
