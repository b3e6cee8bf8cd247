// Where a request goes: endpoint parsing and path-style / virtual-hosted addressing. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncd::s3 {

struct endpoint {
    bool tls = true;
    std::string host;        // "127.0.0.1", "s3.eu-west-1.amazonaws.com", "::1" (no brackets)
    std::uint16_t port = 443;

    std::string host_header() const; // host, bracketed if IPv6, with ":port" unless default
    std::string describe() const;    // "https://host:port"
    // The canonical URL: "http://host" or "https://host:8443" (no default port, no trailing
    // '/'), so that every spelling of one endpoint reads the same.
    std::string url() const;

    bool operator==(const endpoint&) const = default;
};

// "http(s)://host[:port][/]" -> endpoint; nullopt if malformed. The host is lower-cased (host
// names and IPv6 hex digits are case-insensitive).
std::optional<endpoint> parse_endpoint(std::string_view url);

struct addressing {
    endpoint ep;          // the host requests are sent to (includes the bucket when virtual)
    bool path_style = true;
    std::string bucket;

    // The unencoded request path for a key ("" = the bucket itself): "/bucket/key" or "/key".
    std::string path_for(std::string_view key) const;
};

// No custom endpoint = AWS: https://BUCKET.s3.REGION.amazonaws.com, or path style at
// https://s3.REGION.amazonaws.com for bucket names with dots (their TLS certificates do not
// match) or when path_style says so. Custom endpoints use path style unless path_style=false.
addressing make_addressing(const std::optional<endpoint>& custom, std::string_view region, std::string_view bucket,
                           std::optional<bool> path_style);

// The request target as sent on the wire: encoded path, then "?" and the encoded query (in the
// given order) when there is one.
std::string request_target(std::string_view path,
                           const std::vector<std::pair<std::string, std::string>>& query);

} // namespace syncd::s3
