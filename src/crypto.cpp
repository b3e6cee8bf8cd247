#include "syncd/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace syncd::crypto {
namespace {

// EVP contexts only fail on allocation failure or a broken OpenSSL install: bugs, not input.
void check(int ok)
{
    if (ok != 1)
        throw std::runtime_error("OpenSSL digest failure");
}

struct evp_hasher {
    EVP_MD_CTX* ctx;
    explicit evp_hasher(const EVP_MD* md) : ctx(EVP_MD_CTX_new())
    {
        if (!ctx)
            throw std::bad_alloc();
        check(EVP_DigestInit_ex(ctx, md, nullptr));
    }
    ~evp_hasher() { EVP_MD_CTX_free(ctx); }
    evp_hasher(const evp_hasher&) = delete;
    evp_hasher& operator=(const evp_hasher&) = delete;
    void update(const void* p, std::size_t n) { check(EVP_DigestUpdate(ctx, p, n)); }
    template <std::size_t N>
    std::array<std::uint8_t, N> finish()
    {
        std::array<std::uint8_t, N> out{};
        unsigned len = 0;
        check(EVP_DigestFinal_ex(ctx, out.data(), &len));
        return out;
    }
};

} // namespace

sha256_digest sha256(std::string_view data)
{
    evp_hasher h(EVP_sha256());
    h.update(data.data(), data.size());
    return h.finish<32>();
}

md5_digest md5(std::string_view data)
{
    evp_hasher h(EVP_md5());
    h.update(data.data(), data.size());
    return h.finish<16>();
}

sha256_digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data)
{
    sha256_digest out{};
    unsigned len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len))
        throw std::runtime_error("OpenSSL HMAC failure");
    return out;
}

struct md5_hasher::impl : evp_hasher {
    impl() : evp_hasher(EVP_md5()) {}
};
md5_hasher::md5_hasher() : impl_(std::make_unique<impl>()) {}
md5_hasher::~md5_hasher() = default;
md5_hasher::md5_hasher(md5_hasher&&) noexcept = default;
md5_hasher& md5_hasher::operator=(md5_hasher&&) noexcept = default;
void md5_hasher::update(std::string_view data) { impl_->update(data.data(), data.size()); }
void md5_hasher::update(std::span<const std::uint8_t> data) { impl_->update(data.data(), data.size()); }
md5_digest md5_hasher::finish() { return impl_->finish<16>(); }

struct sha256_hasher::impl : evp_hasher {
    impl() : evp_hasher(EVP_sha256()) {}
};
sha256_hasher::sha256_hasher() : impl_(std::make_unique<impl>()) {}
sha256_hasher::~sha256_hasher() = default;
sha256_hasher::sha256_hasher(sha256_hasher&&) noexcept = default;
sha256_hasher& sha256_hasher::operator=(sha256_hasher&&) noexcept = default;
void sha256_hasher::update(std::string_view data) { impl_->update(data.data(), data.size()); }
sha256_digest sha256_hasher::finish() { return impl_->finish<32>(); }

std::string hex(std::span<const std::uint8_t> bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

std::string base64(std::span<const std::uint8_t> bytes)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (const auto rest = bytes.size() - i; rest > 0) {
        std::uint32_t v = bytes[i] << 16;
        if (rest == 2)
            v |= bytes[i + 1] << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

} // namespace syncd::crypto
