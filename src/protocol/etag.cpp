#include "protocol/etag.hpp"

#include "core/log.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>

namespace syncd::s3 {

namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

bool is_md5_hex(std::string_view s) { return s.size() == 32 && std::all_of(s.begin(), s.end(), is_hex); }

// "<32 hex>-<N>", N a part count: 1 to 10,000 without leading zeros.
bool is_multipart_etag(std::string_view s)
{
    if (s.size() < 34 || s[32] != '-' || !is_md5_hex(s.substr(0, 32)))
        return false;
    const auto n = s.substr(33);
    if (n.size() > 5 || n.front() == '0')
        return false;
    return std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_kms(std::string_view algorithm) { return algorithm == "aws:kms" || algorithm == "aws:kms:dsse"; }

} // namespace

bool etag_not_md5(const sse_headers& sse)
{
    return is_kms(sse.algorithm) || is_kms(sse.configured) || !sse.customer_algorithm.empty();
}

etag_evidence classify_etag(std::string_view server_etag, std::string_view expected, const sse_headers& sse)
{
    if (etag_not_md5(sse))
        return etag_evidence::not_comparable;
    const bool multipart = expected.find('-') != std::string_view::npos;
    if (multipart && is_md5_hex(server_etag))
        return etag_evidence::whole_object_md5;
    const bool well_formed = multipart ? is_multipart_etag(server_etag) : is_md5_hex(server_etag);
    if (!well_formed)
        return etag_evidence::malformed;
    return iequals_ascii(server_etag, expected) ? etag_evidence::equal : etag_evidence::mismatch;
}

std::string describe_etag_evidence(etag_evidence ev, std::string_view server_etag, std::string_view expected)
{
    // The server's value is quoted where it holds odd bytes: it comes from the network and ends
    // up in a log line.
    const auto server = log::quote(server_etag);
    const std::string local = std::string(expected.find('-') == std::string_view::npos ? "MD5 " : "multipart ETag ") +
                              std::string(expected);
    const std::string form = expected.find('-') == std::string_view::npos
                                 ? "an MD5 (32 hex digits)"
                                 : "a multipart ETag (32 hex digits, '-', the part count)";
    switch (ev) {
    case etag_evidence::equal:
        return "server ETag " + server + " equals the local " + local;
    case etag_evidence::mismatch:
        return "server ETag " + server + " differs from the local " + local;
    case etag_evidence::malformed:
        return (server_etag.empty() ? std::string("server returned no ETag") : "server ETag " + server + " is not " + form) +
               " and no SSE-KMS/SSE-C header explains it, so the stored bytes cannot be checked against the local " +
               local;
    case etag_evidence::whole_object_md5:
        return "server ETag " + server + " is a plain MD5, comparable only with the whole file's MD5, not with the local " +
               local;
    case etag_evidence::not_comparable:
        return "server ETag " + server + " is not comparable (SSE-KMS/SSE-C); its Content-MD5 check is the evidence";
    }
    return {};
}

} // namespace syncd::s3
