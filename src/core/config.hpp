// The configuration file: parsing and validation (pure), then the few checks that need the
// filesystem or the environment. See docs/configuration.md for the reference.
#pragma once

#include "core/errc.hpp"
#include "protocol/s3_url.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncd {

enum class log_format { text, json };
enum class log_level { debug, info, warn, error };
enum class marker_location { s3, local, both };

// metrics_listen: where the metrics server listens. Parsed from "host:port"; the host is a name,
// an IPv4 address or a bracketed IPv6 address, empty for every IPv4 address (":9108").
struct listen_address {
    std::string host;                   // as written, IPv6 without brackets; "" = 0.0.0.0
    std::uint16_t port = 0;             // 0 = any free port
    std::vector<std::string> addresses; // numeric addresses host resolves to (load_config), in
                                        // the resolver's order, each once; all of them are bound

    std::string to_string() const;      // "host:port", IPv6 in brackets
    // The setting itself: what it resolved to is not compared.
    bool operator==(const listen_address& o) const { return host == o.host && port == o.port; }
};

// Pure: "host:port" -> listen_address (addresses left empty).
result<listen_address> parse_listen_address(std::string_view text);

// What host resolves to (getaddrinfo), as numeric addresses; "" is 0.0.0.0. An error names the
// host and the resolver's reason.
result<std::vector<std::string>> resolve_listen_host(std::string_view host);

// What a syncd process syncs, computed once when the configuration is loaded: two configurations
// with equal target_ids write the same objects, so they share a lock and a marker cache, and a
// reload between them is not a change of target.
struct target_id {
    std::filesystem::path local_dir;   // absolute, symlinks resolved, no '.', '..' or trailing '/'
    std::optional<s3::endpoint> endpoint; // nullopt = AWS
    std::string bucket;
    std::string prefix;                // normalised as config::prefix

    bool operator==(const target_id&) const = default;
    // One line per part (local_dir, endpoint URL or "", bucket, prefix): what the state files'
    // names are hashed from.
    std::string key() const;
    std::string describe() const;      // "/data/runs to s3://bucket/prefix/"
};

// local_dir as target_id holds it: canonical (symlinks resolved) when it exists, else made
// absolute and normalised lexically; never with a trailing '/'.
std::filesystem::path canonical_dir(const std::filesystem::path& dir);

struct config {
    std::map<std::string, unsigned> lines; // key -> line it was set on (first line for repeatable)

    std::string aws_access_key;
    std::string aws_secret_key;
    std::string aws_session_token;
    std::string credentials_from;     // "config file", "environment", "<file> [profile]" or "none"
    std::filesystem::path local_dir;
    std::string bucket_name;
    std::string prefix;               // normalised: no leading '/', ends in '/' unless empty
    std::chrono::nanoseconds sync_interval{0};
    std::string sync_marker_file = "syncd.txt";
    std::string region;               // resolved: file, else AWS_REGION, else us-east-1
    std::optional<s3::endpoint> endpoint; // nullopt = AWS
    std::optional<bool> path_style;   // nullopt = auto
    std::string ca_bundle;            // "" = system store
    unsigned concurrency = 64;        // requests in flight at most
    unsigned part_concurrency = 8;    // multipart parts in flight at most, across all files
    unsigned list_concurrency = 8;    // key ranges of the prefix listed at once at most (list_ranges.hpp)
    std::chrono::nanoseconds settle_time{0};
    std::chrono::nanoseconds progress_interval{std::chrono::seconds{30}}; // 0 = no progress lines
    bool overwrite_changed = false;
    marker_location markers = marker_location::s3;
    std::vector<std::string> exclude;
    bool follow_symlinks = false;
    std::uint64_t multipart_threshold = 64ull << 20;
    std::uint64_t part_size = 16ull << 20;
    std::string storage_class;
    std::string sse;
    std::string sse_kms_key_id;
    std::optional<log_format> log_fmt;
    std::optional<log_level> log_lvl;
    std::optional<listen_address> metrics_listen; // nullopt = off

    // local_dir, endpoint, bucket and prefix as one value: parse_config fills it with local_dir
    // normalised lexically, load_config with local_dir resolved on the filesystem.
    target_id target;
};

struct config_diagnostic {
    std::string file;
    unsigned line = 0;                // 0 when not tied to a line
    std::string key;                  // may be empty
    std::string message;
    std::string to_string() const;    // "FILE:LINE: key 'KEY': MESSAGE"
};

struct config_outcome {
    std::optional<config> cfg;        // set only when errors is empty
    std::vector<config_diagnostic> errors;
    std::vector<std::string> warnings;
};

using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Pure: parses and validates text (no filesystem access). env supplies AWS_REGION (else
// AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_CA_BUNDLE and the credential
// variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (used only when the file
// has no credentials). Missing credentials are not an error here: load_config looks further.
config_outcome parse_config(std::string_view text, std::string_view filename, const env_lookup& env);

// Reads the file and parses it, then checks what needs the filesystem or the network: local_dir
// exists and is a directory (and is resolved into target), ca_bundle is readable,
// metrics_listen's host resolves; warns when the file holds a secret and is group/other-readable.
// Without credentials from the file or the environment, reads the AWS shared files: profile
// AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default") from AWS_SHARED_CREDENTIALS_FILE (else ~/.aws/credentials), then
// from AWS_CONFIG_FILE (else ~/.aws/config).
config_outcome load_config(const std::filesystem::path& file, const env_lookup& env);

// The effective settings, one "key = value" per line, secrets redacted, for --check-config.
std::string describe(const config& cfg);

// The environment of this process.
env_lookup process_env();

} // namespace syncd
