// Command line, configuration, and the cycle schedule (PRODUCT §1).
#include "syncd/config.hpp"
#include "syncd/log.hpp"
#include "syncd/metrics.hpp"
#include "syncd/metrics_server.hpp"
#include "syncd/process_lock.hpp"
#include "syncd/s3_client.hpp"
#include "syncd/state.hpp"
#include "syncd/sync_cycle.hpp"
#include "syncd_version.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using namespace syncd;

namespace {

constexpr int exit_usage = 2;
constexpr std::chrono::seconds shutdown_grace{10};

const char* usage_text =
    "usage: syncd [options] CONFIG\n"
    "  --once                 run exactly one sync cycle, then exit\n"
    "  --dry-run              list what would be uploaded; write nothing (implies --once)\n"
    "  --check-config         validate CONFIG, print the effective settings, exit\n"
    "  --log-format=text|json\n"
    "  --log-level=debug|info|warn|error\n"
    "  --version, --help\n"
    "Exit status: 0 all synced, 1 something not synced, 2 usage or configuration error,\n"
    "3 fatal (endpoint unreachable, bucket missing, credentials rejected).\n";

struct options {
    bool once = false;
    bool dry_run = false;
    bool check_config = false;
    std::optional<log_format> format;
    std::optional<log_level> level;
    std::string config_path;
};

std::optional<log_format> parse_format(std::string_view v)
{
    if (v == "text") return log_format::text;
    if (v == "json") return log_format::json;
    return std::nullopt;
}

std::optional<log_level> parse_level(std::string_view v)
{
    if (v == "debug") return log_level::debug;
    if (v == "info") return log_level::info;
    if (v == "warn") return log_level::warn;
    if (v == "error") return log_level::error;
    return std::nullopt;
}

int usage_error(const std::string& msg)
{
    std::fprintf(stderr, "syncd: %s\n%s", msg.c_str(), usage_text);
    return exit_usage;
}

// Returns an exit status when the process should end right away.
std::optional<int> parse_args(int argc, char** argv, options& o)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf("syncd %s\n", SYNCD_VERSION);
            return 0;
        }
        if (a == "--once") {
            o.once = true;
        } else if (a == "--dry-run") {
            o.dry_run = o.once = true;
        } else if (a == "--check-config") {
            o.check_config = true;
        } else if (a.starts_with("--log-format=")) {
            if (!(o.format = parse_format(a.substr(13))))
                return usage_error("--log-format must be text or json");
        } else if (a.starts_with("--log-level=")) {
            if (!(o.level = parse_level(a.substr(12))))
                return usage_error("--log-level must be debug, info, warn or error");
        } else if (a.starts_with("-") && a.size() > 1) {
            return usage_error("unknown option " + std::string(a));
        } else if (o.config_path.empty()) {
            o.config_path = a;
        } else {
            return usage_error("only one CONFIG file may be given");
        }
    }
    if (o.config_path.empty())
        return usage_error("missing CONFIG file");
    return std::nullopt;
}

s3::client_settings make_settings(const config& cfg)
{
    s3::client_settings s;
    s.addr = *s3::make_addressing(cfg.endpoint, cfg.region, cfg.bucket_name, cfg.path_style);
    s.region = cfg.region;
    s.creds = {cfg.aws_access_key, cfg.aws_secret_key, cfg.aws_session_token};
    s.http.ca_bundle = cfg.ca_bundle;
    s.storage_class = cfg.storage_class;
    s.sse = cfg.sse;
    s.sse_kms_key_id = cfg.sse_kms_key_id;
    return s;
}

// Runs cycles start-to-start every interval until a signal; one cycle when interval is 0.
asio::awaitable<int> schedule(s3::client& s3, const config& cfg, const options& o,
                              const std::filesystem::path& state_dir, bool& stopping, asio::steady_timer& wake,
                              metrics& stats)
{
    const bool repeat = !o.once && cfg.sync_interval.count() > 0;
    const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(cfg.sync_interval);
    auto next = std::chrono::steady_clock::now();
    int status = 0;
    for (;;) {
        stats.cycle_started(metrics::clock::now());
        cycle_options opts{o.dry_run, state_dir, &stopping}; // named: see sync_cycle.cpp on GCC 12
        const auto report = co_await run_cycle(s3, cfg, std::move(opts));
        stats.cycle_finished(report, metrics::clock::now());
        status = report.exit_status();
        if (!repeat || stopping)
            co_return stopping ? 0 : status;
        next += interval;
        const auto now = std::chrono::steady_clock::now();
        if (next <= now) {
            const auto missed = (now - next) / interval + 1;
            next += missed * interval;
            log::warn("tick_skipped", "the cycle ran longer than sync_interval; skipped " +
                                          std::to_string(missed) + " scheduled start(s)");
        }
        wake.expires_at(next);
        boost::system::error_code ec;
        co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (stopping)
            co_return 0;
    }
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    if (auto done = parse_args(argc, argv, o))
        return *done;

    auto loaded = load_config(o.config_path, process_env());
    if (!loaded.errors.empty()) {
        for (const auto& d : loaded.errors)
            std::fprintf(stderr, "syncd: %s\n", d.to_string().c_str());
        std::fprintf(stderr, "syncd: configuration invalid; nothing was done\n");
        return exit_usage;
    }
    const config cfg = std::move(*loaded.cfg);
    log::configure(o.format.value_or(cfg.log_fmt.value_or(log_format::text)),
                   o.level.value_or(cfg.log_lvl.value_or(log_level::info)));
    for (const auto& w : loaded.warnings)
        log::warn("config", w);

    if (o.check_config) {
        std::fputs(describe(cfg).c_str(), stdout);
        return 0;
    }
    if (cfg.aws_access_key.empty() || cfg.aws_secret_key.empty()) {
        std::fprintf(stderr, "syncd: %s: no credentials: set aws_access_key and aws_secret_key, or "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n", o.config_path.c_str());
        return exit_usage;
    }

    const auto state_dir = default_state_dir(process_env());
    std::optional<process_lock> lock;
    if (!o.dry_run) {
        std::string why;
        auto acquired = process_lock::acquire(state_dir, cfg, why);
        if (!acquired) {
            std::fprintf(stderr, "syncd: %s\n", why.c_str());
            return exit_usage;
        }
        lock.emplace(std::move(*acquired));
    }

    asio::io_context io;
    auto s3 = s3::client::create(io.get_executor(), make_settings(cfg));
    if (!s3) {
        std::fprintf(stderr, "syncd: %s\n", s3.error().to_string().c_str());
        return exit_usage;
    }

    metrics stats(cfg.sync_interval);
    std::unique_ptr<metrics_server> metrics_http;
    if (!cfg.metrics_listen.empty() && !o.dry_run) {
        std::string why;
        metrics_http = metrics_server::start(io.get_executor(), cfg.metrics_listen, stats, why);
        if (!metrics_http) {
            std::fprintf(stderr, "syncd: %s\n", why.c_str());
            return exit_usage;
        }
        log::info("metrics", "serving /metrics and /healthz on " + cfg.metrics_listen,
                  {{"port", static_cast<std::int64_t>(metrics_http->port())}});
    }

    bool stopping = false;
    asio::steady_timer wake(io);   // the wait between cycles
    asio::steady_timer grace(io);  // in-flight requests get this long after a signal
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
        if (ec)
            return;
        const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        if (stopping) {
            log::warn("shutdown", std::string("second ") + name + "; cancelling requests in flight now");
            (*s3)->shutdown();
            return;
        }
        stopping = true;
        log::info("shutdown", std::string("received ") + name + "; starting nothing new, letting requests in flight finish (up to " +
                                  std::to_string(shutdown_grace.count()) + " s)");
        wake.cancel();
        grace.expires_after(shutdown_grace);
        grace.async_wait([&](boost::system::error_code e) {
            if (e)
                return;
            log::warn("shutdown", "grace period over; cancelling requests in flight (their files stay unmarked)");
            (*s3)->shutdown();
        });
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);

    int status = 1;
    asio::co_spawn(io, schedule(**s3, cfg, o, state_dir, stopping, wake, stats), [&](std::exception_ptr e, int s) {
        signals.cancel();
        grace.cancel();
        if (metrics_http)
            metrics_http->stop();
        if (e)
            std::rethrow_exception(e);
        status = s;
        io.stop();
    });
    io.run();
    return status;
}
