#include "protocol/http_message.hpp"

#include "core/text.hpp"

#include <charconv>

namespace syncd::http {

namespace {

bool one_line(std::string_view v) { return v.find('\r') == v.npos && v.find('\n') == v.npos; }

} // namespace

std::string response::header(std::string_view name) const
{
    for (const auto& [n, v] : headers)
        if (iequals_ascii(n, name))
            return v;
    return {};
}

bool write_request_head(std::string& out, const request& r, std::string_view host)
{
    if (!one_line(r.method) || !one_line(r.target) || !one_line(host) || r.target.find(' ') != std::string::npos)
        return false;
    std::size_t size = r.method.size() + r.target.size() + host.size() + 64;
    for (const auto& [name, value] : r.headers)
        size += name.size() + value.size() + 4;
    out.clear();
    out.reserve(size);
    out.append(r.method).append(" ").append(r.target).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
    for (const auto& [name, value] : r.headers) {
        if (name.empty() || !one_line(name) || !one_line(value) || name.find(':') != std::string::npos)
            return false;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    if (r.body_size() > 0 || r.method == "PUT" || r.method == "POST") {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, r.body_size()).ptr;
        out.append("Content-Length: ").append(digits, end).append("\r\n");
    }
    out.append("\r\n");
    return true;
}

} // namespace syncd::http
