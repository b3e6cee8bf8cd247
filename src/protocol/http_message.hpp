// HTTP/1.1 requests and responses as plain data, and the request head as bytes on the wire.
// No Asio or Beast here: the transport (http_client.hpp) moves these, tests inspect them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncd::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

// A body read from an open file as it is sent (multipart parts): over plain TCP the kernel moves it
// from the page cache to the socket (sendfile), over TLS it is read in pieces. Nothing holds the
// whole part in memory. fd is not owned and must stay open until send() completes.
struct file_range {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct request {
    std::string method;
    std::string target;    // encoded path and query
    header_list headers;   // Host and Content-Length are added by the client
    std::string_view body; // not owned: must stay valid until send() completes
    file_range file;       // the body instead, when file.fd >= 0

    bool has_file_body() const { return file.fd >= 0; }
    std::uint64_t body_size() const { return has_file_body() ? file.length : body.size(); }
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
// the method, target, host, a header name or value holds a line break (it would smuggle a header),
// the target a space, or a name is empty or holds ':'.
bool write_request_head(std::string& out, const request& r, std::string_view host);

} // namespace syncd::http
