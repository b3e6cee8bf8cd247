#include "protocol/s3_url.hpp"

#include "core/text.hpp"
#include "core/uri.hpp"

#include <charconv>

namespace syncd::s3 {
namespace {

std::uint16_t default_port(bool tls) { return tls ? 443 : 80; }

bool is_ipv6(std::string_view host) { return host.find(':') != std::string_view::npos; }

} // namespace

std::string endpoint::host_header() const
{
    std::string h = is_ipv6(host) ? "[" + host + "]" : host;
    if (port != default_port(tls))
        h += ":" + std::to_string(port);
    return h;
}

std::string endpoint::describe() const
{
    std::string h = is_ipv6(host) ? "[" + host + "]" : host;
    return std::string(tls ? "https://" : "http://") + h + ":" + std::to_string(port);
}

std::string endpoint::url() const
{
    return std::string(tls ? "https://" : "http://") + host_header();
}

std::optional<endpoint> parse_endpoint(std::string_view url)
{
    endpoint ep;
    if (url.starts_with("https://")) {
        ep.tls = true;
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        ep.tls = false;
        url.remove_prefix(7);
    } else {
        return std::nullopt;
    }
    if (url.ends_with('/'))
        url.remove_suffix(1);
    if (url.empty() || url.find_first_of("/?#@ ") != std::string_view::npos)
        return std::nullopt;

    std::string_view host = url;
    std::string_view port;
    if (url.front() == '[') { // [::1]:9000
        auto close = url.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = url.substr(1, close - 1);
        auto rest = url.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return std::nullopt;
            port = rest.substr(1);
        }
    } else if (auto colon = url.rfind(':'); colon != std::string_view::npos) {
        host = url.substr(0, colon);
        port = url.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return std::nullopt; // bare IPv6 must be bracketed
    }
    if (host.empty())
        return std::nullopt;
    ep.host = std::string(host);
    for (auto& c : ep.host)
        c = ascii_lower(c);
    ep.port = default_port(ep.tls);
    if (!port.empty() || url.ends_with(':')) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            return std::nullopt;
        ep.port = static_cast<std::uint16_t>(value);
    }
    return ep;
}

std::string addressing::path_for(std::string_view key) const
{
    std::string path = "/";
    if (path_style) {
        path += bucket;
        if (!key.empty())
            path += "/";
    }
    path += key;
    return path;
}

addressing make_addressing(const std::optional<endpoint>& custom, std::string_view region, std::string_view bucket,
                           std::optional<bool> path_style)
{
    addressing a;
    a.bucket = std::string(bucket);
    if (!custom) {
        a.path_style = path_style.value_or(bucket.find('.') != std::string_view::npos);
        a.ep.tls = true;
        a.ep.port = 443;
        a.ep.host = "s3." + std::string(region) + ".amazonaws.com";
        if (!a.path_style)
            a.ep.host = a.bucket + "." + a.ep.host;
        return a;
    }
    a.ep = *custom;
    a.path_style = path_style.value_or(true);
    if (!a.path_style)
        a.ep.host = a.bucket + "." + a.ep.host;
    return a;
}

std::string request_target(std::string_view path,
                           const std::vector<std::pair<std::string, std::string>>& query)
{
    std::string target = uri::encode(path, true);
    char sep = '?';
    for (const auto& [name, value] : query) {
        target += sep;
        target += uri::encode(name);
        target += '=';
        target += uri::encode(value);
        sep = '&';
    }
    return target;
}

} // namespace syncd::s3
