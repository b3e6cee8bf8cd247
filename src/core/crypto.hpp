// Hashes, HMAC and encodings over OpenSSL. Pure functions, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace syncd::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;
using md5_digest = std::array<std::uint8_t, 16>;

sha256_digest sha256(std::string_view data);
sha256_digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);
md5_digest md5(std::string_view data);

// Incremental hashers, for data that arrives in pieces.
class md5_hasher {
public:
    md5_hasher();
    ~md5_hasher();
    md5_hasher(md5_hasher&&) noexcept;
    md5_hasher& operator=(md5_hasher&&) noexcept;
    void update(std::string_view data);
    void update(std::span<const std::uint8_t> data);
    md5_digest finish(); // the hasher may not be used after finish()
private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

class sha256_hasher {
public:
    sha256_hasher();
    ~sha256_hasher();
    sha256_hasher(sha256_hasher&&) noexcept;
    sha256_hasher& operator=(sha256_hasher&&) noexcept;
    void update(std::string_view data);
    sha256_digest finish();
private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

std::string hex(std::span<const std::uint8_t> bytes);    // lower-case
std::string base64(std::span<const std::uint8_t> bytes); // standard alphabet, padded

} // namespace syncd::crypto
