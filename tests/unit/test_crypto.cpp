#include "core/crypto.hpp"

#include <doctest/doctest.h>

using namespace syncd::crypto;

namespace {
std::span<const std::uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
}

TEST_CASE("crypto: SHA-256 and MD5 known answers")
{
    CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(hex(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(hex(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")) ==
          "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("crypto: incremental hashers equal one-shot")
{
    md5_hasher m;
    m.update("ab");
    m.update(bytes("c"));
    CHECK(hex(m.finish()) == hex(md5("abc")));
    sha256_hasher s;
    s.update("a");
    s.update("bc");
    CHECK(hex(s.finish()) == hex(sha256("abc")));
}

TEST_CASE("crypto: HMAC-SHA256 (RFC 4231 case 2)")
{
    CHECK(hex(hmac_sha256(bytes("Jefe"), "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("crypto: one-shot calls reuse their contexts without carrying state between calls")
{
    // RFC 4231 case 1 (20 bytes of 0x0b) between two runs of case 2: the context is re-keyed.
    const std::string key1(20, '\x0b');
    const auto jefe = hex(hmac_sha256(bytes("Jefe"), "what do ya want for nothing?"));
    CHECK(hex(hmac_sha256(bytes(key1), "Hi There")) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hex(hmac_sha256(bytes("Jefe"), "what do ya want for nothing?")) == jefe);
    // The same key again reuses the padded key state: each call still starts from the key alone,
    // with nothing of the previous message in it, and a key that is a prefix of the held one is
    // a different key (RFC 4231 case 2's key is "Jefe"; "Jef" must not reuse it).
    for (int i = 0; i < 3; ++i) {
        CHECK(hex(hmac_sha256(bytes("Jefe"), "what do ya want for nothing?")) == jefe);
        CHECK(hex(hmac_sha256(bytes("Jefe"), "")) == "923598ca6d64af2a5dba79dcd021a8a0fe5c5f557519adaaf0ad532d4506dd30");
    }
    CHECK(hex(hmac_sha256(bytes("Jef"), "what do ya want for nothing?")) != jefe);
    CHECK(hex(hmac_sha256(bytes(""), "")) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    CHECK(hex(hmac_sha256(bytes(""), "")) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    // Digests of different algorithms, interleaved, each still answers as if alone.
    for (int i = 0; i < 3; ++i) {
        CHECK(hex(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
        CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        CHECK(hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
    }
}

TEST_CASE("crypto: base64 (RFC 4648 vectors)")
{
    CHECK(base64(bytes("")) == "");
    CHECK(base64(bytes("f")) == "Zg==");
    CHECK(base64(bytes("fo")) == "Zm8=");
    CHECK(base64(bytes("foo")) == "Zm9v");
    CHECK(base64(bytes("foob")) == "Zm9vYg==");
    CHECK(base64(bytes("fooba")) == "Zm9vYmE=");
    CHECK(base64(bytes("foobar")) == "Zm9vYmFy");
    CHECK(base64(md5("")) == "1B2M2Y8AsgTpgAmY7PhCfg==");
}
