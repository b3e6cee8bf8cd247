// Credentials from the AWS shared files (~/.aws/credentials, ~/.aws/config), used when neither
// the configuration file nor the environment provides a key pair. Parsing is pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace syncd {

struct static_credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token;
};

enum class shared_file_style {
    credentials, // sections are "[NAME]"
    config,      // sections are "[default]" and "[profile NAME]"
};

// The key pair of `profile` in an AWS shared credentials/config file (INI: "[section]",
// "key = value", '#' or ';' comment lines). nullopt when the profile is absent or lacks either
// aws_access_key_id or aws_secret_access_key.
std::optional<static_credentials> parse_shared_credentials(std::string_view text, std::string_view profile,
                                                           shared_file_style style);

} // namespace syncd
