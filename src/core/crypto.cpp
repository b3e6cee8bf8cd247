#include "core/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace syncd::crypto {
namespace {

// EVP contexts only fail on allocation failure or a broken OpenSSL install: bugs, not input.
void check(int ok)
{
    if (ok != 1)
        throw std::runtime_error("OpenSSL digest failure");
}

// Algorithms fetched once: EVP_md5()/EVP_sha256() would make OpenSSL 3 look the implementation
// up again (under a lock) on every init, which showed up in profiles at one hash per request.
const EVP_MD* fetched(const char* name, const EVP_MD* legacy)
{
    const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    return md ? md : legacy;
}
const EVP_MD* md5_md()
{
    static const EVP_MD* md = fetched("MD5", EVP_md5());
    return md;
}
const EVP_MD* sha256_md()
{
    static const EVP_MD* md = fetched("SHA256", EVP_sha256());
    return md;
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

// One-shot digests reuse one context per thread instead of allocating one per call.
template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, std::string_view data)
{
    thread_local evp_hasher h(md);
    check(EVP_DigestInit_ex(h.ctx, md, nullptr));
    h.update(data.data(), data.size());
    return h.finish<N>();
}

// HMAC-SHA-256 with one MAC context per thread, re-keyed per call.
struct hmac_context {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    hmac_context()
    {
        if (!ctx)
            throw std::runtime_error("OpenSSL HMAC is not available");
        char digest_name[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                     OSSL_PARAM_construct_end()};
        check(EVP_MAC_CTX_set_params(ctx, params));
    }
    std::vector<std::uint8_t> key; // the key the context holds, once keyed
    bool keyed = false;
    ~hmac_context()
    {
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
    }
    hmac_context(const hmac_context&) = delete;
    hmac_context& operator=(const hmac_context&) = delete;
};

} // namespace

sha256_digest sha256(std::string_view data) { return digest<32>(sha256_md(), data); }

md5_digest md5(std::string_view data) { return digest<16>(md5_md(), data); }

sha256_digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data)
{
    thread_local hmac_context h;
    sha256_digest out{};
    std::size_t len = 0;
    // EVP_MAC_init takes a null key as "keep the old one" and then starts from the padded key
    // state it already computed: SigV4 signs every request with the same key, so that saves two
    // compressions and the key set-up per request. A zero-length key is valid HMAC, so it is
    // passed as a real (one-byte, zero-length) buffer.
    static constexpr std::uint8_t no_key[1] = {0};
    if (h.keyed && std::equal(key.begin(), key.end(), h.key.begin(), h.key.end())) {
        check(EVP_MAC_init(h.ctx, nullptr, 0, nullptr));
    } else {
        h.keyed = false; // until the init below succeeds
        check(EVP_MAC_init(h.ctx, key.empty() ? no_key : key.data(), key.size(), nullptr));
        h.key.assign(key.begin(), key.end());
        h.keyed = true;
    }
    check(EVP_MAC_update(h.ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()));
    check(EVP_MAC_final(h.ctx, out.data(), &len, out.size()));
    return out;
}

struct md5_hasher::impl : evp_hasher {
    impl() : evp_hasher(md5_md()) {}
};
md5_hasher::md5_hasher() : impl_(std::make_unique<impl>()) {}
md5_hasher::~md5_hasher() = default;
md5_hasher::md5_hasher(md5_hasher&&) noexcept = default;
md5_hasher& md5_hasher::operator=(md5_hasher&&) noexcept = default;
void md5_hasher::update(std::string_view data) { impl_->update(data.data(), data.size()); }
void md5_hasher::update(std::span<const std::uint8_t> data) { impl_->update(data.data(), data.size()); }
md5_digest md5_hasher::finish() { return impl_->finish<16>(); }

struct sha256_hasher::impl : evp_hasher {
    impl() : evp_hasher(sha256_md()) {}
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
    std::string out(bytes.size() * 2, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
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
