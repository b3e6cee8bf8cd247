#include "protocol/credentials.hpp"

#include <doctest/doctest.h>

using namespace syncd;

namespace {
constexpr std::string_view creds_file = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret/default+1

[lab]
; another comment
aws_access_key_id=AKIDLAB
aws_secret_access_key =  lab-secret
aws_session_token = token==
region = eu-west-1

[half]
aws_access_key_id = ONLYKEY
)";
} // namespace

TEST_CASE("shared credentials: profiles by section name")
{
    auto d = parse_shared_credentials(creds_file, "default", shared_file_style::credentials);
    REQUIRE(d);
    CHECK(d->access_key == "AKIDDEFAULT");
    CHECK(d->secret_key == "secret/default+1");
    CHECK(d->session_token.empty());
    auto lab = parse_shared_credentials(creds_file, "lab", shared_file_style::credentials);
    REQUIRE(lab);
    CHECK(lab->access_key == "AKIDLAB");
    CHECK(lab->secret_key == "lab-secret");
    CHECK(lab->session_token == "token==");
}

TEST_CASE("shared credentials: absent or incomplete profiles give nothing")
{
    CHECK_FALSE(parse_shared_credentials(creds_file, "nope", shared_file_style::credentials));
    CHECK_FALSE(parse_shared_credentials(creds_file, "half", shared_file_style::credentials));
    CHECK_FALSE(parse_shared_credentials("", "default", shared_file_style::credentials));
    CHECK_FALSE(parse_shared_credentials("[default\naws_access_key_id=a\naws_secret_access_key=b\n", "default",
                                         shared_file_style::credentials));
}

TEST_CASE("shared config file: [profile NAME] sections, [default] as is")
{
    constexpr std::string_view cfg = "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n"
                                     "[profile lab]\naws_access_key_id = L\naws_secret_access_key = LS\n"
                                     "[lab]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n";
    auto lab = parse_shared_credentials(cfg, "lab", shared_file_style::config);
    REQUIRE(lab);
    CHECK(lab->access_key == "L");
    auto d = parse_shared_credentials(cfg, "default", shared_file_style::config);
    REQUIRE(d);
    CHECK(d->access_key == "D");
}
