// HTTP/1.1 requests and responses as plain data, and the request head as bytes on the wire.
// No Asio or Beast here: the transport (http_client.hpp) moves these, tests inspect them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncd::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct request {
    std::string method;
    std::string target;   // encoded path and query
    header_list headers;  // Host and Content-Length are added by the client
    std::string_view body; // not owned: must stay valid until send() completes
};

struct response {
    unsigned status = 0;
    header_list headers;
    std::string body;
    bool keep_alive = true;
    std::string header(std::string_view name) const; // case-insensitive; "" when absent
};

// Writes r's head into out: "METHOD target HTTP/1.1", Host, r's headers in order, then
// Content-Length (whenever there is a body, and for an empty PUT or POST, as S3 wants), then the
// blank line; the body goes out after it as it is. Returns false, leaving out unspecified, when
// the method, target, a header name or value holds a line break (it would smuggle a header), the
// target a space, or a name is empty or holds ':'.
bool write_request_head(std::string& out, const request& r, std::string_view host);

} // namespace syncd::http
