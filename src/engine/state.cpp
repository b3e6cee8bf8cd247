#include "engine/state.hpp"

#include "core/crypto.hpp"
#include "local/local_fs.hpp"

#include <nlohmann/json.hpp>

#include <system_error>

namespace syncd {

std::string serialize(const marker_cache& cache)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, m] : cache.markers)
        j[key] = {{"etag", m.etag}, {"digest", m.digest}};
    nlohmann::json suspect = nlohmann::json::array();
    for (const auto& key : cache.suspect)
        suspect.push_back(key);
    return nlohmann::json{{"version", 1}, {"markers", j}, {"suspect", suspect}}.dump() + "\n";
}

marker_cache parse_marker_cache(std::string_view text)
{
    marker_cache cache;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("version", 0) != 1)
        return cache;
    if (auto suspect = j.find("suspect"); suspect != j.end() && suspect->is_array())
        for (const auto& k : *suspect)
            if (k.is_string())
                cache.suspect.insert(k.get<std::string>());
    auto markers = j.find("markers");
    if (markers == j.end() || !markers->is_object())
        return cache;
    for (const auto& [key, v] : markers->items()) {
        if (!v.is_object() || !v.contains("etag") || !v.contains("digest") || !v["etag"].is_string() ||
            !v["digest"].is_string())
            continue;
        cache.markers[key] = {v["etag"].get<std::string>(), v["digest"].get<std::string>()};
    }
    return cache;
}

std::filesystem::path default_state_dir(const env_lookup& env)
{
    if (auto d = env("SYNCD_STATE_DIR"); d && !d->empty())
        return *d;
    if (auto d = env("XDG_STATE_HOME"); d && !d->empty())
        return std::filesystem::path(*d) / "syncd";
    if (auto h = env("HOME"); h && !h->empty() && *h != "/")
        return std::filesystem::path(*h) / ".local/state/syncd";
    return "/var/lib/syncd";
}

namespace {

std::string state_file_name(const target_id& target, std::string_view kind)
{
    return crypto::hex(crypto::sha256(target.key())).substr(0, 16) + "." + std::string(kind);
}

} // namespace

std::filesystem::path marker_cache_path(const std::filesystem::path& state_dir, const target_id& target)
{
    return state_dir / state_file_name(target, "markers.json");
}

std::filesystem::path lock_file_path(const std::filesystem::path& state_dir, const target_id& target)
{
    return state_dir / state_file_name(target, "lock");
}

marker_cache load_marker_cache(const std::filesystem::path& file)
{
    auto text = read_small_file(file);
    return text ? parse_marker_cache(*text) : marker_cache{};
}

result<void> write_marker_cache(const std::filesystem::path& file, const marker_cache& cache)
{
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
        return make_system_error(ec.value(), "cannot create " + file.parent_path().string());
    return write_file_atomic(file.parent_path(), file.filename().string(), serialize(cache));
}

} // namespace syncd
