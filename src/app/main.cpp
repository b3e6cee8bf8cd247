// Command line, configuration, and the cycle schedule (docs/behaviour.md, docs/operations.md).
#include "app/metrics_server.hpp"
#include "app/process_lock.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "engine/state.hpp"
#include "engine/sync_cycle.hpp"
#include "protocol/s3_client.hpp"
#include "syncd_version.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

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
            if (!(o.format = log::parse_format(a.substr(13))))
                return usage_error("--log-format must be " + log::format_choices());
        } else if (a.starts_with("--log-level=")) {
            if (!(o.level = log::parse_level(a.substr(12))))
                return usage_error("--log-level must be " + log::level_choices());
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
    s.addr = s3::make_addressing(cfg.endpoint, cfg.region, cfg.bucket_name, cfg.path_style);
    s.region = cfg.region;
    s.creds = {cfg.aws_access_key, cfg.aws_secret_key, cfg.aws_session_token};
    s.http.ca_bundle = cfg.ca_bundle;
    s.storage_class = cfg.storage_class;
    s.sse = cfg.sse;
    s.sse_kms_key_id = cfg.sse_kms_key_id;
    s.max_in_flight = cfg.concurrency;
    return s;
}

// Everything a running syncd owns. Lives on the io_context thread; signal handlers and the
// schedule only touch it from there.
struct service {
    options opt;
    config cfg;
    std::vector<std::string> warned; // the warnings of the configuration loaded last
    std::filesystem::path state_dir;
    std::optional<process_lock> lock;
    std::unique_ptr<s3::client> s3;
    metrics stats;
    asio::steady_timer wake;     // the wait between cycles
    asio::steady_timer grace;    // in-flight requests get this long after a signal
    asio::steady_timer ticker;   // progress lines
    stop_signal stop;            // SIGTERM/SIGINT: start nothing new; wakes what waits for it
    bool reload_requested = false;
    bool done = false;
    bool in_cycle = false;
    cycle_progress progress;
    std::chrono::steady_clock::time_point cycle_started;

    service(asio::io_context& io, options o, config c, std::filesystem::path state)
        : opt(std::move(o)), cfg(std::move(c)), state_dir(std::move(state)), stats(cfg.sync_interval),
          wake(io), grace(io), ticker(io)
    {
    }
};

// The command line wins over the file; text is the default.
log_format effective_format(const options& o, const config& cfg)
{
    return o.format.value_or(cfg.log_fmt.value_or(log_format::text));
}

void apply_log_settings(const options& o, const config& cfg)
{
    log::configure(effective_format(o, cfg),
                   o.level.value_or(cfg.log_lvl.value_or(log_level::info)));
}

// SIGHUP: re-read the file between cycles. Anything wrong with the new file leaves the running
// configuration untouched.
void reload(service& svc, asio::any_io_executor ex)
{
    svc.reload_requested = false;
    auto loaded = load_config(svc.opt.config_path, process_env());
    auto keep = [&](const std::string& why) {
        log::error("config_reload", why + "; keeping the previous configuration", {{"file", svc.opt.config_path}});
    };
    if (!loaded.errors.empty()) {
        for (const auto& d : loaded.errors)
            log::error("config_reload", d.to_string(), {{"file", d.file}, {"line", std::uint64_t{d.line}}, {"key", d.key}});
        return keep(svc.opt.config_path + " is invalid");
    }
    config next = std::move(*loaded.cfg);
    if (next.aws_access_key.empty() || next.aws_secret_key.empty())
        return keep("no credentials in the new configuration");
    // The same target (however local_dir is spelled) keeps the lock it holds: taking it again
    // would be refused by our own flock.
    std::optional<process_lock> new_lock;
    if (!svc.opt.dry_run && next.target != svc.cfg.target) {
        auto acquired = process_lock::acquire(svc.state_dir, next.target);
        if (!acquired)
            return keep(acquired.error().message);
        new_lock = std::move(*acquired);
    }
    auto client = s3::client::create(ex, make_settings(next));
    if (!client)
        return keep(client.error().to_string());
    if (next.metrics_listen != svc.cfg.metrics_listen)
        log::warn("config_reload", "metrics_listen changed; it takes effect after a restart");
    // A warning already given for the running configuration (a readable file holding a secret)
    // is not repeated by every reload that leaves it standing; one that is new, or back after
    // being fixed, is.
    for (const auto& w : loaded.warnings)
        if (std::find(svc.warned.begin(), svc.warned.end(), w) == svc.warned.end())
            log::warn("config", w);
    svc.warned = std::move(loaded.warnings);
    svc.cfg = std::move(next);
    svc.s3 = std::move(*client);
    if (new_lock)
        svc.lock = std::move(new_lock);
    svc.stats.set_interval(svc.cfg.sync_interval);
    apply_log_settings(svc.opt, svc.cfg);
    log::info("config_reload", "configuration reloaded from " + svc.opt.config_path,
              {{"file", svc.opt.config_path}});
}

// Runs cycles start-to-start every interval until a signal; one cycle when interval is 0.
asio::awaitable<int> schedule(service& svc)
{
    auto ex = co_await asio::this_coro::executor;
    auto next = std::chrono::steady_clock::now();
    int status = 0;
    // A test hook (docs/testing.md): cut even a small tree's listing into key ranges.
    std::optional<std::size_t> files_per_list_range;
    if (const char* per_range = std::getenv("SYNCD_FILES_PER_LIST_RANGE"))
        files_per_list_range = std::strtoull(per_range, nullptr, 10);
    for (;;) {
        svc.stats.cycle_started(metrics::clock::now());
        svc.progress = {};
        svc.in_cycle = true;
        svc.cycle_started = std::chrono::steady_clock::now();
        cycle_options opts{svc.opt.dry_run, svc.state_dir, &svc.stop, &svc.progress}; // named: GCC 12
        if (files_per_list_range)
            opts.files_per_list_range = *files_per_list_range;
        const auto report = co_await run_cycle(*svc.s3, svc.cfg, std::move(opts));
        svc.in_cycle = false;
        log::status("");
        svc.stats.cycle_finished(report, metrics::clock::now());
        status = report.exit_status();
        const bool repeat = !svc.opt.once && svc.cfg.sync_interval.count() > 0;
        if (!repeat || svc.stop.stopped())
            co_return svc.stop.stopped() ? 0 : status;
        const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(svc.cfg.sync_interval);
        next += interval;
        const auto now = std::chrono::steady_clock::now();
        if (next <= now) {
            const auto missed = (now - next) / interval + 1;
            next += missed * interval;
            log::warn("tick_skipped", "the cycle ran longer than sync_interval; skipped " +
                                          std::to_string(missed) + " scheduled start(s)",
                      {{"skipped", static_cast<std::int64_t>(missed)}});
        }
        // Wait for the next start; a SIGHUP wakes the wait to reload, then it goes on waiting.
        // One that came during the cycle is served first, as its log line promised, not when
        // the wait ends a whole interval later.
        while (std::chrono::steady_clock::now() < next) {
            if (svc.reload_requested)
                reload(svc, ex);
            svc.wake.expires_at(next);
            boost::system::error_code ec;
            co_await svc.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (svc.stop.stopped())
                co_return 0;
        }
        if (svc.reload_requested)
            reload(svc, ex);
    }
}

// A live line on a terminal for --once; otherwise a "progress" log line every progress_interval
// while a cycle runs.
asio::awaitable<void> report_progress(service& svc)
{
    const bool live = svc.opt.once && !svc.opt.dry_run && ::isatty(STDERR_FILENO) &&
                      effective_format(svc.opt, svc.cfg) == log_format::text;
    while (!svc.done) {
        const auto cadence = live ? std::chrono::nanoseconds{std::chrono::milliseconds{500}} : svc.cfg.progress_interval;
        if (cadence.count() <= 0) {
            svc.ticker.expires_after(std::chrono::seconds{1});
        } else {
            svc.ticker.expires_after(cadence);
        }
        boost::system::error_code ec;
        co_await svc.ticker.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (svc.done || !svc.in_cycle || cadence.count() <= 0)
            continue;
        const auto elapsed = std::chrono::steady_clock::now() - svc.cycle_started;
        const auto line = format_progress(svc.progress, elapsed);
        if (live) {
            log::status(line);
        } else {
            const auto& p = svc.progress;
            log::info("progress", "progress: " + line,
                      {{"files_done", p.files_done}, {"files_total", p.files_total},
                       {"bytes_done", p.bytes_done}, {"bytes_total", p.bytes_total}});
        }
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
    apply_log_settings(o, *loaded.cfg);
    for (const auto& w : loaded.warnings)
        log::warn("config", w);

    if (o.check_config) {
        std::fputs(describe(*loaded.cfg).c_str(), stdout);
        return 0;
    }
    if (loaded.cfg->aws_access_key.empty() || loaded.cfg->aws_secret_key.empty()) {
        std::fprintf(stderr, "syncd: %s: no credentials: set aws_access_key and aws_secret_key, or "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials "
                             "(AWS_PROFILE picks it)\n", o.config_path.c_str());
        return exit_usage;
    }

    asio::io_context io;
    service svc(io, o, std::move(*loaded.cfg), default_state_dir(process_env()));
    svc.warned = std::move(loaded.warnings);
    if (!o.dry_run) {
        auto lock = process_lock::acquire(svc.state_dir, svc.cfg.target);
        if (!lock) {
            std::fprintf(stderr, "syncd: %s\n", lock.error().message.c_str());
            return exit_usage;
        }
        svc.lock = std::move(*lock);
    }
    auto s3 = s3::client::create(io.get_executor(), make_settings(svc.cfg));
    if (!s3) {
        std::fprintf(stderr, "syncd: %s\n", s3.error().to_string().c_str());
        return exit_usage;
    }
    svc.s3 = std::move(*s3);

    std::unique_ptr<metrics_server> metrics_http;
    if (svc.cfg.metrics_listen && !o.dry_run) {
        auto started = metrics_server::start(io.get_executor(), *svc.cfg.metrics_listen, svc.stats);
        if (!started) {
            std::fprintf(stderr, "syncd: %s\n", started.error().message.c_str());
            return exit_usage;
        }
        metrics_http = std::move(*started);
    }

    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
        if (ec)
            return;
        signals.async_wait(on_signal);
        if (sig == SIGHUP) {
            log::info("config_reload", svc.in_cycle ? "received SIGHUP; the configuration is re-read when this cycle ends"
                                                    : "received SIGHUP; re-reading the configuration");
            svc.reload_requested = true;
            if (!svc.in_cycle)
                svc.wake.cancel();
            return;
        }
        const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        if (svc.stop.stopped()) {
            log::warn("shutdown", std::string("second ") + name + "; cancelling requests in flight now");
            svc.s3->shutdown();
            return;
        }
        svc.stop.stop();
        log::info("shutdown", std::string("received ") + name + "; starting nothing new, letting requests in flight finish (up to " +
                                  std::to_string(shutdown_grace.count()) + " s)");
        svc.wake.cancel();
        svc.grace.expires_after(shutdown_grace);
        svc.grace.async_wait([&](boost::system::error_code e) {
            if (e)
                return;
            log::warn("shutdown", "grace period over; cancelling requests in flight (their files stay unmarked)");
            svc.s3->shutdown();
        });
    };
    signals.async_wait(on_signal);

    asio::co_spawn(io, report_progress(svc), asio::detached);
    int status = 1;
    asio::co_spawn(io, schedule(svc), [&](std::exception_ptr e, int s) {
        svc.done = true;
        signals.cancel();
        svc.grace.cancel();
        svc.ticker.cancel();
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
