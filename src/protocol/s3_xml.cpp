#include "protocol/s3_xml.hpp"

#include "core/uri.hpp"

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

template <class T>
bool parse_number(const std::string& s, T& out)
{
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// An S3 answer to operation op: its root element (named "...Result", or "...Response" as some
// servers (moto) name it) and how names in it are encoded.
class answer {
public:
    answer(std::string_view xml, const std::string& root_name, std::string op) : op_(std::move(op))
    {
        if (!load(doc_, xml)) {
            problem_ = bad("response is not XML");
            return;
        }
        root = doc_.child(root_name.c_str());
        if (!root && root_name.ends_with("Result"))
            root = doc_.child((root_name.substr(0, root_name.size() - 6) + "Response").c_str());
        if (!root)
            problem_ = bad("no " + root_name + " in response");
        url_encoded_ = text(root, "EncodingType") == "url";
    }

    // Why the answer is unusable, if it is.
    const std::optional<error>& problem() const { return problem_; }

    error bad(const std::string& what) const { return make_error(errc::http_protocol, op_ + ": " + what); }

    // The text of node's child: a key or prefix, decoded when the answer says
    // <EncodingType>url</EncodingType>.
    result<std::string> name(const pugi::xml_node& node, const char* child) const
    {
        auto s = text(node, child);
        if (!url_encoded_)
            return s;
        if (auto decoded = uri::decode(s, true))
            return std::move(*decoded);
        return bad(std::string("malformed encoded <") + child + ">");
    }

    // A listing's <IsTruncated>, and the marker (child) that asks for the rest; an error when the
    // listing is truncated but gives no marker. A marker that is a key is decoded like one
    // (is_key); tokens and part numbers are taken as they are.
    std::optional<error> continuation(const char* child, bool& truncated, std::string& marker,
                                      bool is_key = false) const
    {
        truncated = text(root, "IsTruncated") == "true";
        if (!truncated)
            return std::nullopt;
        auto value = is_key ? name(root, child) : text(root, child);
        if (!value)
            return value.error();
        if (value->empty())
            return bad(std::string("truncated listing without <") + child + ">");
        marker = std::move(*value);
        return std::nullopt;
    }

    pugi::xml_node root;

private:
    pugi::xml_document doc_;
    std::string op_;
    bool url_encoded_ = false;
    std::optional<error> problem_;
};

// The listings, each read from its answer into a page.
result<list_page> read(const answer& a, list_page page)
{
    for (auto c : a.root.children("Contents")) {
        object_info obj;
        auto key = a.name(c, "Key");
        if (!key)
            return key.error();
        obj.key = std::move(*key);
        if (!parse_number(text(c, "Size"), obj.size))
            return a.bad("bad <Size> for " + obj.key);
        obj.etag = unquote_etag(text(c, "ETag"));
        page.objects.push_back(std::move(obj));
    }
    if (auto e = a.continuation("NextContinuationToken", page.truncated, page.next_continuation_token))
        return *e;
    return page;
}

result<multipart_uploads_page> read(const answer& a, multipart_uploads_page page)
{
    for (auto u : a.root.children("Upload")) {
        auto key = a.name(u, "Key");
        if (!key)
            return key.error();
        page.uploads.push_back({std::move(*key), text(u, "UploadId")});
    }
    page.next_upload_id_marker = text(a.root, "NextUploadIdMarker");
    if (auto e = a.continuation("NextKeyMarker", page.truncated, page.next_key_marker, true))
        return *e;
    return page;
}

result<parts_page> read(const answer& a, parts_page page)
{
    for (auto p : a.root.children("Part")) {
        part_info part;
        if (!parse_number(text(p, "PartNumber"), part.number) || !parse_number(text(p, "Size"), part.size))
            return a.bad("bad <PartNumber> or <Size>");
        part.etag = unquote_etag(text(p, "ETag"));
        page.parts.push_back(std::move(part));
    }
    if (auto e = a.continuation("NextPartNumberMarker", page.truncated, page.next_part_number_marker))
        return *e;
    return page;
}

template <class Page>
result<Page> parse_page(std::string_view xml, const std::string& root_name, std::string op)
{
    const answer a(xml, root_name, std::move(op));
    if (a.problem())
        return *a.problem();
    return read(a, Page{});
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
    return parse_page<list_page>(xml, "ListBucketResult", "ListObjectsV2");
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
    return e;
}

error to_error(const error_body& body, unsigned http_status, std::string message)
{
    auto e = make_error(classify(body.code, http_status), std::move(message));
    e.s3_code = body.code;
    e.s3_message = body.message;
    e.request_id = body.request_id;
    e.http_status = http_status;
    return e;
}

result<std::string> parse_initiate_multipart_upload(std::string_view xml)
{
    const answer a(xml, "InitiateMultipartUploadResult", "CreateMultipartUpload");
    if (a.problem())
        return *a.problem();
    auto id = text(a.root, "UploadId");
    if (id.empty())
        return a.bad("no <UploadId> in response");
    return id;
}

result<multipart_uploads_page> parse_list_multipart_uploads(std::string_view xml)
{
    return parse_page<multipart_uploads_page>(xml, "ListMultipartUploadsResult", "ListMultipartUploads");
}

result<parts_page> parse_list_parts(std::string_view xml)
{
    return parse_page<parts_page>(xml, "ListPartsResult", "ListParts");
}

std::string complete_multipart_body(std::span<const part_info> parts)
{
    pugi::xml_document doc;
    auto root = doc.append_child("CompleteMultipartUpload");
    root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
    for (const auto& p : parts) {
        auto part = root.append_child("Part");
        part.append_child("PartNumber").text().set(std::to_string(p.number).c_str());
        part.append_child("ETag").text().set(("\"" + p.etag + "\"").c_str());
    }
    struct writer : pugi::xml_writer {
        std::string out;
        void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
    } w;
    doc.save(w, "", pugi::format_raw);
    return std::move(w.out);
}

result<std::string> parse_complete_multipart_upload(std::string_view xml)
{
    if (auto err = parse_error(xml))
        return to_error(*err, 200, "CompleteMultipartUpload");
    const answer a(xml, "CompleteMultipartUploadResult", "CompleteMultipartUpload");
    if (a.problem())
        return *a.problem();
    // Ceph RGW 16 answers <ETag></ETag>: the object exists, the caller has to look its ETag up.
    if (!a.root.child("ETag"))
        return a.bad("no <ETag> in response");
    return unquote_etag(text(a.root, "ETag"));
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
    if (code == "NoSuchUpload")
        return errc::no_such_upload;
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
