// A small HTTP server for /metrics and /healthz on the main io_context. Beast stays in the .cpp.
#pragma once

#include "core/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace syncd {

class metrics_server {
public:
    // listen: "host:port" (port 0 picks a free one). On failure why is set and nullptr returned.
    static std::unique_ptr<metrics_server> start(boost::asio::any_io_executor ex, const std::string& listen,
                                                 const metrics& m, std::string& why);
    ~metrics_server();
    void stop();                     // closes the listener and open connections
    unsigned short port() const;     // the port actually bound

    struct impl;
private:
    explicit metrics_server(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

} // namespace syncd
