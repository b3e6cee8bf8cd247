// A small HTTP server for /metrics and /healthz on the main io_context. Beast stays in the .cpp.
#pragma once

#include "core/config.hpp"
#include "core/errc.hpp"
#include "core/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace syncd {

class metrics_server {
public:
    // Listens on every address in listen.addresses (resolved by load_config), all on one port
    // (port 0: the first address picks a free one, the others take the same). An address of a
    // family or an address this machine does not have (no IPv6, say) is skipped with a warning;
    // any other failure to listen, or none bound at all, is an error. Logs where it serves.
    static result<std::unique_ptr<metrics_server>> start(boost::asio::any_io_executor ex,
                                                         const listen_address& listen, const metrics& m);
    ~metrics_server();
    void stop();                     // closes the listeners and open connections
    unsigned short port() const;     // the port actually bound

    struct impl;
private:
    explicit metrics_server(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

} // namespace syncd
