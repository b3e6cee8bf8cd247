#include "core/config.hpp"

#include "core/log.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "core/uri.hpp"
#include "local/local_fs.hpp"
#include "protocol/credentials.hpp"
#include "protocol/s3_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace syncd {
namespace {

// ---- small parsers -------------------------------------------------------------------------

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<bool> parse_bool(std::string_view v)
{
    const auto l = lower(v);
    if (l == "true" || l == "yes" || l == "1")
        return true;
    if (l == "false" || l == "no" || l == "0")
        return false;
    return std::nullopt;
}

bool is_ipv4(std::string_view s)
{
    int parts = 0;
    std::size_t i = 0;
    while (i <= s.size()) {
        auto dot = s.find('.', i);
        auto part = s.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
        unsigned v = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc() || end != part.data() + part.size() || v > 255)
            return false;
        ++parts;
        if (dot == std::string_view::npos)
            break;
        i = dot + 1;
    }
    return parts == 4;
}

// S3 bucket naming rules: what is wrong with b, if anything.
result<void> check_bucket_name(std::string_view b)
{
    auto problem = [](const char* what) { return make_error(errc::config_invalid, what); };
    if (b.size() < 3 || b.size() > 63)
        return problem("must be 3 to 63 characters long");
    for (char c : b)
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
              c == '.' || c == '-'))
            return problem("may contain only lower-case letters, digits, '.' and '-'");
    auto alnum = [](char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)); };
    if (!alnum(b.front()) || !alnum(b.back()))
        return problem("must start and end with a letter or digit");
    if (b.find("..") != std::string_view::npos)
        return problem("must not contain '..'");
    if (is_ipv4(b))
        return problem("must not be an IP address");
    if (b.starts_with("xn--") || b.starts_with("sthree-") || b.ends_with("-s3alias") || b.ends_with("--ol-s3"))
        return problem("uses a prefix or suffix reserved by S3");
    return {};
}

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const auto up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// ---- the key table -------------------------------------------------------------------------

// A setter stores the value, or says what is wrong with it (never the value of a secret).
using setter = result<void> (*)(config&, std::string_view);

struct key_spec {
    std::string_view name;
    setter set;
    bool repeatable = false;
    bool secret = false;
};

error invalid(std::string message) { return make_error(errc::config_invalid, std::move(message)); }

result<void> set_duration(std::chrono::nanoseconds& out, std::string_view v)
{
    auto d = parse_duration(v);
    if (!d)
        return invalid("'" + std::string(v) + "' is not a duration (examples: 30s, 5m, 1h30m, 250ms, 1.5h, 0)");
    out = *d;
    return {};
}

result<void> set_size(std::uint64_t& out, std::string_view v, std::uint64_t min, std::uint64_t max)
{
    auto s = parse_size(v);
    if (!s)
        return invalid("'" + std::string(v) + "' is not a size (examples: 8MiB, 1GiB, 5000000)");
    if (*s < min || *s > max)
        return invalid("must be between " + format_size(min) + " and " + format_size(max));
    out = *s;
    return {};
}

result<void> set_count(unsigned& out, std::string_view v, unsigned max)
{
    unsigned n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > max)
        return invalid("'" + std::string(v) + "' must be a whole number from 1 to " + std::to_string(max));
    out = n;
    return {};
}

result<void> set_bool(bool& out, std::string_view v)
{
    auto b = parse_bool(v);
    if (!b)
        return invalid("'" + std::string(v) + "' is not true or false");
    out = *b;
    return {};
}

result<void> set_endpoint(std::optional<s3::endpoint>& out, std::string_view v)
{
    auto ep = s3::parse_endpoint(v);
    if (!ep)
        return invalid("'" + std::string(v) + "' is not http(s)://host[:port] (no path, query or user name)");
    out = std::move(*ep);
    return {};
}

result<void> set_prefix(std::string& out, std::string_view v)
{
    while (!v.empty() && v.front() == '/')
        v.remove_prefix(1);
    std::string p(v);
    if (!p.empty() && p.back() != '/')
        p += '/';
    if (p.find("//") != std::string::npos)
        return invalid("must not contain '//'");
    if (!uri::is_valid_utf8(p))
        return invalid("must be valid UTF-8");
    out = p;
    return {};
}

result<void> set_text(std::string& out, std::string_view v)
{
    out = v;
    return {};
}

const key_spec keys[] = {
    {"aws_access_key", [](config& c, std::string_view v) { return set_text(c.aws_access_key, v); }},
    {"aws_secret_key", [](config& c, std::string_view v) { return set_text(c.aws_secret_key, v); }, false, true},
    {"aws_session_token", [](config& c, std::string_view v) { return set_text(c.aws_session_token, v); }, false, true},
    {"local_dir", [](config& c, std::string_view v) -> result<void> {
         if (v.empty())
             return invalid("must not be empty");
         c.local_dir = std::string(v);
         return {};
     }},
    {"bucket_name", [](config& c, std::string_view v) -> result<void> {
         if (auto valid = check_bucket_name(v); !valid)
             return invalid("'" + std::string(v) + "' is not a valid bucket name: " + valid.error().message);
         c.bucket_name = v;
         return {};
     }},
    {"prefix", [](config& c, std::string_view v) { return set_prefix(c.prefix, v); }},
    {"sync_interval", [](config& c, std::string_view v) { return set_duration(c.sync_interval, v); }},
    {"sync_marker_file", [](config& c, std::string_view v) -> result<void> {
         if (v.empty() || v == "." || v == ".." || v.find('/') != std::string_view::npos || v.find('\0') != std::string_view::npos)
             return invalid("'" + std::string(v) + "' must be a plain file name (no '/')");
         c.sync_marker_file = v;
         return {};
     }},
    {"region", [](config& c, std::string_view v) -> result<void> {
         if (v.empty() || v.find_first_of(" /") != std::string_view::npos)
             return invalid("'" + std::string(v) + "' is not a region name (like us-east-1)");
         c.region = v;
         return {};
     }},
    {"endpoint", [](config& c, std::string_view v) { return set_endpoint(c.endpoint, v); }},
    {"path_style", [](config& c, std::string_view v) -> result<void> {
         if (lower(v) == "auto") {
             c.path_style.reset();
             return {};
         }
         auto b = parse_bool(v);
         if (!b)
             return invalid("'" + std::string(v) + "' is not true, false or auto");
         c.path_style = *b;
         return {};
     }},
    {"ca_bundle", [](config& c, std::string_view v) { return set_text(c.ca_bundle, v); }},
    {"concurrency", [](config& c, std::string_view v) { return set_count(c.concurrency, v, 4096); }},
    {"part_concurrency", [](config& c, std::string_view v) { return set_count(c.part_concurrency, v, 4096); }},
    {"list_concurrency", [](config& c, std::string_view v) { return set_count(c.list_concurrency, v, 64); }},
    {"settle_time", [](config& c, std::string_view v) { return set_duration(c.settle_time, v); }},
    {"progress_interval", [](config& c, std::string_view v) { return set_duration(c.progress_interval, v); }},
    {"overwrite_changed", [](config& c, std::string_view v) { return set_bool(c.overwrite_changed, v); }},
    {"marker_location", [](config& c, std::string_view v) -> result<void> {
         const auto l = lower(v);
         if (l == "s3") c.markers = marker_location::s3;
         else if (l == "local") c.markers = marker_location::local;
         else if (l == "both") c.markers = marker_location::both;
         else return invalid("'" + std::string(v) + "' is not s3, local or both");
         return {};
     }},
    {"exclude", [](config& c, std::string_view v) -> result<void> {
         if (v.empty())
             return invalid("must not be empty");
         c.exclude.emplace_back(v);
         return {};
     }, true},
    {"follow_symlinks", [](config& c, std::string_view v) { return set_bool(c.follow_symlinks, v); }},
    {"multipart_threshold", [](config& c, std::string_view v) {
         return set_size(c.multipart_threshold, v, 5ull << 20, 5ull << 30);
     }},
    {"part_size", [](config& c, std::string_view v) { return set_size(c.part_size, v, 5ull << 20, 5ull << 30); }},
    {"storage_class", [](config& c, std::string_view v) -> result<void> {
         for (char ch : v)
             if (!std::isupper(static_cast<unsigned char>(ch)) && ch != '_' && !std::isdigit(static_cast<unsigned char>(ch)))
                 return invalid("'" + std::string(v) + "' is not a storage class (like STANDARD_IA)");
         c.storage_class = v;
         return {};
     }},
    {"sse", [](config& c, std::string_view v) -> result<void> {
         if (v != "AES256" && v != "aws:kms")
             return invalid("'" + std::string(v) + "' is not AES256 or aws:kms");
         c.sse = v;
         return {};
     }},
    {"sse_kms_key_id", [](config& c, std::string_view v) { return set_text(c.sse_kms_key_id, v); }},
    {"log_format", [](config& c, std::string_view v) -> result<void> {
         c.log_fmt = log::parse_format(v);
         if (!c.log_fmt)
             return invalid("'" + std::string(v) + "' is not " + log::format_choices());
         return {};
     }},
    {"log_level", [](config& c, std::string_view v) -> result<void> {
         c.log_lvl = log::parse_level(v);
         if (!c.log_lvl)
             return invalid("'" + std::string(v) + "' is not " + log::level_choices());
         return {};
     }},
    {"metrics_listen", [](config& c, std::string_view v) -> result<void> {
         auto listen = parse_listen_address(v);
         if (!listen)
             return listen.error();
         c.metrics_listen = std::move(*listen);
         return {};
     }},
};

const key_spec* find_key(std::string_view name)
{
    for (const auto& k : keys)
        if (k.name == name)
            return &k;
    return nullptr;
}

std::string suggestion(std::string_view name)
{
    const key_spec* best = nullptr;
    std::size_t best_distance = 4;
    const auto l = lower(name);
    for (const auto& k : keys) {
        const auto d = l == k.name ? 0 : edit_distance(l, k.name);
        if (d < best_distance) {
            best_distance = d;
            best = &k;
        }
    }
    return best ? "; did you mean '" + std::string(best->name) + "'?" : std::string();
}

// "/a/b/" -> "/a/b"; the root stays "/".
std::filesystem::path without_trailing_slash(std::filesystem::path p)
{
    if (!p.has_filename() && p.has_relative_path())
        p = p.parent_path();
    return p;
}

// Pure: local_dir as far as it can be normalised without the filesystem.
std::filesystem::path lexical_dir(const std::filesystem::path& dir)
{
    return without_trailing_slash(dir.lexically_normal());
}

bool is_host_name(std::string_view host)
{
    for (char c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
            return false;
    return true;
}

} // namespace

// ---- typed values ---------------------------------------------------------------------------

std::string listen_address::to_string() const
{
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

result<listen_address> parse_listen_address(std::string_view text)
{
    const auto quoted = "'" + std::string(text) + "'";
    std::string_view host;
    std::string_view port;
    bool bracketed = false;
    if (text.find("://") != std::string_view::npos)
        return invalid(quoted + " is host:port, not a URL (like localhost:9108)");
    if (text.starts_with('[')) { // [::1]:9108
        const auto close = text.find(']');
        if (close == std::string_view::npos || text.substr(close + 1, 1) != ":")
            return invalid(quoted + " is not host:port (like localhost:9108, 127.0.0.1:9108 or [::1]:9108)");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        bracketed = true;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return invalid(quoted + " is not host:port (like localhost:9108, 127.0.0.1:9108 or [::1]:9108)");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return invalid(quoted + ": an IPv6 address goes in brackets, like [::1]:9108");
    }
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number > 65535)
        return invalid(quoted + " has no valid port (a number from 0 to 65535 after the last ':')");
    if (bracketed) {
        in6_addr ignored{};
        if (::inet_pton(AF_INET6, std::string(host).c_str(), &ignored) != 1)
            return invalid(quoted + ": '" + std::string(host) + "' in brackets is not an IPv6 address");
    } else if (!is_host_name(host)) {
        return invalid(quoted + ": '" + std::string(host) + "' is not a host name or IP address");
    }
    listen_address out;
    out.host = std::string(host);
    out.port = static_cast<std::uint16_t>(number);
    return out;
}

result<std::vector<std::string>> resolve_listen_host(std::string_view host)
{
    if (host.empty())
        return std::vector<std::string>{"0.0.0.0"};
    const std::string name(host);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
    if (rc != 0)
        return make_error(errc::resolve_failed, "'" + name + "' does not resolve (" +
                                                    (rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)) +
                                                    "); use a host name this machine resolves or an IP address");
    std::vector<std::string> out;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        bool ok = false;
        if (a->ai_family == AF_INET && a->ai_addrlen >= sizeof(sockaddr_in)) {
            sockaddr_in sa{};
            std::memcpy(&sa, a->ai_addr, sizeof sa);
            ok = ::inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text) != nullptr;
        } else if (a->ai_family == AF_INET6 && a->ai_addrlen >= sizeof(sockaddr_in6)) {
            sockaddr_in6 sa{};
            std::memcpy(&sa, a->ai_addr, sizeof sa);
            ok = ::inet_ntop(AF_INET6, &sa.sin6_addr, text, sizeof text) != nullptr;
        }
        if (ok && std::find(out.begin(), out.end(), text) == out.end())
            out.emplace_back(text);
    }
    ::freeaddrinfo(found);
    if (out.empty())
        return make_error(errc::resolve_failed, "'" + name + "' resolves to no IPv4 or IPv6 address");
    return out;
}

std::string target_id::key() const
{
    return local_dir.string() + "\n" + (endpoint ? endpoint->url() : std::string()) + "\n" + bucket + "\n" + prefix;
}

std::string target_id::describe() const
{
    return local_dir.string() + " to s3://" + bucket + "/" + prefix;
}

std::filesystem::path canonical_dir(const std::filesystem::path& dir)
{
    std::error_code ec;
    auto resolved = std::filesystem::canonical(dir, ec);
    if (ec) { // gone since it was checked: the best that can be said without it
        resolved = std::filesystem::absolute(dir, ec);
        resolved = (ec ? dir : resolved).lexically_normal();
    }
    return without_trailing_slash(std::move(resolved));
}

std::string config_diagnostic::to_string() const
{
    std::string out = file;
    if (line > 0)
        out += ":" + std::to_string(line);
    out += ": ";
    if (!key.empty())
        out += key + ": ";
    return out + message;
}

config_outcome parse_config(std::string_view text, std::string_view filename, const env_lookup& env)
{
    config_outcome out;
    config c;
    auto error = [&](unsigned line, std::string_view key, std::string message) {
        out.errors.push_back({std::string(filename), line, std::string(key), std::move(message)});
    };

    unsigned lineno = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto nl = text.find('\n', pos);
        auto raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineno;
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#')
            continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            error(lineno, "", "malformed line (expected 'key = value')");
            continue;
        }
        const auto key = trim(line.substr(0, eq));
        const auto value = trim(line.substr(eq + 1));
        if (key.empty()) {
            error(lineno, "", "malformed line (no key before '=')");
            continue;
        }
        const auto* spec = find_key(key);
        if (!spec) {
            error(lineno, key, "unknown key" + suggestion(key));
            continue;
        }
        if (auto seen = c.lines.find(std::string(key)); seen != c.lines.end() && !spec->repeatable) {
            error(lineno, key, "set twice (first on line " + std::to_string(seen->second) + ")");
            continue;
        }
        c.lines.try_emplace(std::string(key), lineno);
        if (auto set = spec->set(c, value); !set)
            error(lineno, key, spec->secret ? "invalid value" : set.error().message);
    }

    for (const char* required : {"local_dir", "bucket_name"})
        if (!c.lines.count(required))
            error(0, required, "required key is missing");

    // Where the file is silent, the environment speaks.
    auto env_value = [&](std::string_view name) -> std::optional<std::string> {
        auto v = env(name);
        if (v && !v->empty())
            return v;
        return std::nullopt;
    };
    if (!c.lines.count("region")) {
        c.region = env_value("AWS_REGION").value_or(env_value("AWS_DEFAULT_REGION").value_or("us-east-1"));
    }
    if (!c.lines.count("endpoint")) {
        for (const char* var : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
            if (auto v = env_value(var)) {
                if (auto set = set_endpoint(c.endpoint, *v); !set)
                    error(0, var, "environment variable " + set.error().message);
                break;
            }
        }
    }
    if (!c.lines.count("ca_bundle"))
        if (auto v = env_value("AWS_CA_BUNDLE"))
            c.ca_bundle = *v;

    const bool has_key = c.lines.count("aws_access_key") > 0;
    const bool has_secret = c.lines.count("aws_secret_key") > 0;
    if (has_key != has_secret) {
        error(c.lines[has_key ? "aws_access_key" : "aws_secret_key"], has_key ? "aws_access_key" : "aws_secret_key",
              "aws_access_key and aws_secret_key must be set together");
    } else if (!has_key) {
        c.aws_access_key = env_value("AWS_ACCESS_KEY_ID").value_or("");
        c.aws_secret_key = env_value("AWS_SECRET_ACCESS_KEY").value_or("");
        c.aws_session_token = env_value("AWS_SESSION_TOKEN").value_or("");
        c.credentials_from = c.aws_access_key.empty() ? "none" : "environment";
    } else {
        c.credentials_from = "config file";
    }
    if (!c.sse_kms_key_id.empty() && c.sse != "aws:kms")
        error(c.lines["sse_kms_key_id"], "sse_kms_key_id", "requires sse = aws:kms");
    c.target = {lexical_dir(c.local_dir), c.endpoint, c.bucket_name, c.prefix};

    if (out.errors.empty())
        out.cfg = std::move(c);
    return out;
}

namespace {

void load_shared_credentials(config& c, const env_lookup& env)
{
    auto get = [&](const char* name, std::string fallback) {
        auto v = env(name);
        return v && !v->empty() ? *v : fallback;
    };
    const auto home = get("HOME", "");
    const auto profile = get("AWS_PROFILE", get("AWS_DEFAULT_PROFILE", "default"));
    const std::pair<std::string, shared_file_style> files[] = {
        {get("AWS_SHARED_CREDENTIALS_FILE", home.empty() ? "" : home + "/.aws/credentials"),
         shared_file_style::credentials},
        {get("AWS_CONFIG_FILE", home.empty() ? "" : home + "/.aws/config"), shared_file_style::config},
    };
    for (const auto& [path, style] : files) {
        if (path.empty())
            continue;
        auto text = read_small_file(path);
        if (!text)
            continue;
        if (auto creds = parse_shared_credentials(*text, profile, style)) {
            c.aws_access_key = std::move(creds->access_key);
            c.aws_secret_key = std::move(creds->secret_key);
            c.aws_session_token = std::move(creds->session_token);
            c.credentials_from = path + " [" + profile + "]";
            return;
        }
    }
}

} // namespace

config_outcome load_config(const std::filesystem::path& file, const env_lookup& env)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        config_outcome out;
        out.errors.push_back({file.string(), 0, "", "cannot read the configuration file"});
        return out;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    auto out = parse_config(ss.str(), file.string(), env);
    if (!out.cfg)
        return out;
    auto& c = *out.cfg;
    auto error = [&](std::string_view key, std::string message) {
        out.errors.push_back({file.string(), c.lines.count(std::string(key)) ? c.lines[std::string(key)] : 0u,
                              std::string(key), std::move(message)});
    };
    std::error_code ec;
    if (!std::filesystem::exists(c.local_dir, ec))
        error("local_dir", "'" + c.local_dir.string() + "' does not exist");
    else if (!std::filesystem::is_directory(c.local_dir, ec))
        error("local_dir", "'" + c.local_dir.string() + "' is not a directory");
    else
        c.target.local_dir = canonical_dir(c.local_dir);
    if (!c.ca_bundle.empty() && ::access(c.ca_bundle.c_str(), R_OK) != 0)
        error("ca_bundle", "'" + c.ca_bundle + "' cannot be read" +
                               (c.lines.count("ca_bundle") ? "" : " (from AWS_CA_BUNDLE)"));
    if (c.metrics_listen) {
        if (auto addresses = resolve_listen_host(c.metrics_listen->host))
            c.metrics_listen->addresses = std::move(*addresses);
        else
            error("metrics_listen", addresses.error().message);
    }
    if (c.aws_access_key.empty() || c.aws_secret_key.empty())
        load_shared_credentials(c, env);
    struct stat st{};
    if ((c.lines.count("aws_secret_key") || c.lines.count("aws_session_token")) && ::stat(file.c_str(), &st) == 0 &&
        (st.st_mode & 077) != 0)
        out.warnings.push_back(file.string() + " holds a secret and is readable by group or others; run 'chmod 600 " +
                               file.string() + "'");
    if (!out.errors.empty())
        out.cfg.reset();
    return out;
}

std::string describe(const config& c)
{
    auto yes = [](bool b) { return b ? std::string("true") : std::string("false"); };
    auto when = [](const std::string& s, const char* otherwise) { return s.empty() ? std::string(otherwise) : s; };
    std::string out;
    auto line = [&](std::string_view k, const std::string& v) { out += std::string(k) + " = " + v + "\n"; };
    line("aws_access_key", when(c.aws_access_key, "(none)"));
    line("aws_secret_key", c.aws_secret_key.empty() ? "(none)" : "<redacted>");
    line("aws_session_token", c.aws_session_token.empty() ? "(none)" : "<redacted>");
    line("credentials_from", c.credentials_from.empty() ? "none" : c.credentials_from);
    line("local_dir", c.local_dir.string());
    line("bucket_name", c.bucket_name);
    line("prefix", c.prefix);
    line("sync_interval", format_duration(c.sync_interval));
    line("sync_marker_file", c.sync_marker_file);
    line("region", c.region);
    line("endpoint", c.endpoint ? c.endpoint->url() : "(AWS)");
    line("path_style", c.path_style ? yes(*c.path_style) : "auto");
    line("ca_bundle", when(c.ca_bundle, "(system store)"));
    line("concurrency", std::to_string(c.concurrency));
    line("part_concurrency", std::to_string(c.part_concurrency));
    line("list_concurrency", std::to_string(c.list_concurrency));
    line("settle_time", format_duration(c.settle_time));
    line("progress_interval", format_duration(c.progress_interval));
    line("overwrite_changed", yes(c.overwrite_changed));
    line("marker_location", c.markers == marker_location::s3 ? "s3" : c.markers == marker_location::local ? "local" : "both");
    for (const auto& e : c.exclude)
        line("exclude", e);
    if (c.exclude.empty())
        line("exclude", "(none)");
    line("follow_symlinks", yes(c.follow_symlinks));
    line("multipart_threshold", format_size(c.multipart_threshold));
    line("part_size", format_size(c.part_size));
    line("storage_class", when(c.storage_class, "(default)"));
    line("sse", when(c.sse, "(none)"));
    line("sse_kms_key_id", when(c.sse_kms_key_id, "(none)"));
    line("log_format", std::string(log::name(c.log_fmt.value_or(log_format::text))));
    line("log_level", std::string(log::name(c.log_lvl.value_or(log_level::info))));
    std::string listen = "(off)";
    if (c.metrics_listen) {
        listen = c.metrics_listen->to_string();
        const auto& addresses = c.metrics_listen->addresses;
        if (!addresses.empty() && addresses != std::vector<std::string>{c.metrics_listen->host}) {
            listen += " (listens on ";
            for (std::size_t i = 0; i < addresses.size(); ++i)
                listen += (i ? ", " : "") + addresses[i];
            listen += ")";
        }
    }
    line("metrics_listen", listen);
    return out;
}

env_lookup process_env()
{
    return [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
}

} // namespace syncd
