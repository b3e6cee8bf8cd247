#include "engine/diff.hpp"

namespace syncd {

std::string object_key(std::string_view prefix, std::string_view dir_rel, std::string_view name)
{
    std::string key;
    key.reserve(prefix.size() + dir_rel.size() + 1 + name.size());
    key += prefix;
    if (!dir_rel.empty()) {
        key += dir_rel;
        key += '/';
    }
    key += name;
    return key;
}

namespace {

file_action decide(const file_entry& f, const std::string& key, const remote_object* obj,
                   const diff_options& opt)
{
    if (key.size() > max_key_bytes)
        return file_action::invalid_key;
    // An object our own upload stored with bytes that failed the integrity check proves nothing,
    // whatever its size: it is replaced, never counted as verified.
    const bool suspect = obj && opt.suspect && opt.suspect->contains(key);
    if (obj && obj->size == f.size && !suspect)
        return file_action::verified;
    if (opt.now_ns - f.mtime_ns < opt.settle_time.count())
        return file_action::settling;
    if (!obj)
        return file_action::upload;
    return opt.overwrite_changed || suspect ? file_action::overwrite : file_action::conflict;
}

} // namespace

std::vector<file_plan> diff(const tree& local, const remote_index& remote, const diff_options& opt)
{
    std::vector<file_plan> plan;
    plan.reserve(local.file_count());
    for (int d = 0; d < static_cast<int>(local.dirs.size()); ++d) {
        const auto& dir = local.dirs[d];
        for (int i = 0; i < static_cast<int>(dir.files.size()); ++i) {
            const auto& f = dir.files[i];
            file_plan p;
            p.dir = d;
            p.file = i;
            p.key = object_key(opt.prefix, dir.rel, f.name);
            auto it = remote.find(p.key);
            const remote_object* obj = it == remote.end() ? nullptr : &it->second;
            p.action = decide(f, p.key, obj, opt);
            if (obj)
                p.remote_size = obj->size;
            plan.push_back(std::move(p));
        }
    }
    return plan;
}

} // namespace syncd
