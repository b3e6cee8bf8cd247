// Small text helpers shared by the line-oriented parsers (configuration, AWS shared files) and
// by HTTP/SigV4 header handling.
#pragma once

#include <cctype>
#include <string_view>

namespace syncd {

// s without leading and trailing whitespace.
inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

// ASCII lowercase of c; other bytes unchanged. For protocol tokens such as header names, where
// std::tolower would consult the locale for every character.
inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether a and b are equal ignoring ASCII case (header names).
inline bool iequals_ascii(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

} // namespace syncd
