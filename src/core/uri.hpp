// Percent-encoding as S3 and SigV4 want it. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace syncd::uri {

// RFC 3986: keeps A-Z a-z 0-9 - . _ ~ and, when keep_slash, '/'; every other byte becomes %XX
// (upper-case hex). This is the single encoding used for S3 object keys in request targets and in
// the SigV4 canonical URI, and for query names and values.
std::string encode(std::string_view s, bool keep_slash = false);

// Decodes %XX escapes; with plus_is_space, '+' becomes ' ' (S3's encoding-type=url listings use
// form encoding). Returns nullopt on a malformed escape.
std::optional<std::string> decode(std::string_view s, bool plus_is_space = false);

// True when s is well-formed UTF-8 (no overlongs, no surrogates, no code points above U+10FFFF).
bool is_valid_utf8(std::string_view s);

} // namespace syncd::uri
