// Whether a write's answer proves that the server stored the bytes we sent: the server's ETag
// against the one computed locally, with the encryption headers that make ETags incomparable.
// Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

namespace syncd::s3 {

// The encryption a write's answer reports, and the one syncd asked for (config `sse`).
struct sse_headers {
    std::string_view algorithm;          // x-amz-server-side-encryption: "AES256", "aws:kms", "aws:kms:dsse"
    std::string_view customer_algorithm; // x-amz-server-side-encryption-customer-algorithm (SSE-C)
    std::string_view configured;         // client_settings::sse
};

enum class etag_evidence {
    equal,          // comparable and equal: the server stored the bytes we sent
    mismatch,       // comparable and different: it stored other bytes
    malformed,      // missing, or not of the MD5 form, and no encryption that explains it
    not_comparable, // SSE-KMS, DSSE-KMS or SSE-C: the ETag is no MD5; Content-MD5 is the evidence
    // A multipart ETag was expected and the server gave a plain 32-hex one (s3rver, some
    // gateways): the MD5 of the whole object. Evidence only once compared with the whole file's
    // MD5, which the caller computes; never with the multipart ETag.
    whole_object_md5,
};

// True when the ETags of objects written with these settings are not MD5-based: SSE-KMS or
// DSSE-KMS (answered or configured) or SSE-C. SSE-S3 (AES256) keeps MD5 ETags.
bool etag_not_md5(const sse_headers& sse);

// expected is the local ETag: 32 lower-case hex digits (MD5 of a single PUT's body or of a
// part), or "<32 hex>-<N>" for a completed multipart upload of N parts. server_etag is the
// server's, quotes already stripped. It must have expected's form, hex digits in either case; a
// multipart ETag that is well formed but counts other parts is a mismatch. Where a multipart
// ETag is expected, a plain 32-hex one is whole_object_md5: neither equal nor a mismatch yet.
etag_evidence classify_etag(std::string_view server_etag, std::string_view expected, const sse_headers& sse);

// For messages: "server ETag "x" is not an MD5 (32 hex digits) ..." and the like, naming both values.
std::string describe_etag_evidence(etag_evidence ev, std::string_view server_etag, std::string_view expected);

} // namespace syncd::s3
