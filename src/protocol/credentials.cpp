#include "protocol/credentials.hpp"

#include "core/text.hpp"

namespace syncd {
namespace {

// The profile a section header names, or nullopt when the header is not a profile section.
std::optional<std::string> section_profile(std::string_view header, shared_file_style style)
{
    header = trim(header);
    if (style == shared_file_style::credentials || header == "default")
        return std::string(header);
    if (header.starts_with("profile ") || header.starts_with("profile\t"))
        return std::string(trim(header.substr(8)));
    return std::nullopt;
}

} // namespace

std::optional<static_credentials> parse_shared_credentials(std::string_view text, std::string_view profile,
                                                           shared_file_style style)
{
    static_credentials c;
    bool in_profile = false;
    bool found = false;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty() || line.front() == '#' || line.front() == ';')
            continue;
        if (line.front() == '[') {
            const auto close = line.find(']');
            const auto name = close == std::string_view::npos ? std::nullopt
                                                              : section_profile(line.substr(1, close - 1), style);
            in_profile = name && *name == profile;
            found = found || in_profile;
            continue;
        }
        if (!in_profile)
            continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            continue;
        const auto key = trim(line.substr(0, eq));
        const auto value = std::string(trim(line.substr(eq + 1)));
        if (key == "aws_access_key_id")
            c.access_key = value;
        else if (key == "aws_secret_access_key")
            c.secret_key = value;
        else if (key == "aws_session_token")
            c.session_token = value;
    }
    if (!found || c.access_key.empty() || c.secret_key.empty())
        return std::nullopt;
    return c;
}

} // namespace syncd
