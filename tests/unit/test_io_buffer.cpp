#include "syncd/io_buffer.hpp"

#include <doctest/doctest.h>

#include <algorithm>

TEST_CASE("io_buffer: small and huge-page buffers hold what is written into them")
{
    for (std::size_t size : {std::size_t{0}, std::size_t{4096}, std::size_t{16} << 20, (std::size_t{5} << 20) + 3}) {
        CAPTURE(size);
        const syncd::io_buffer b(size);
        const auto s = b.span();
        REQUIRE(s.size() == size);
        for (std::size_t i = 0; i < size; i += 4093)
            s[i] = static_cast<char>(i % 251);
        bool same = true;
        for (std::size_t i = 0; i < size; i += 4093)
            same = same && s[i] == static_cast<char>(i % 251);
        CHECK(same);
        if (size > 0) {
            std::fill(s.begin(), s.end(), 'x');
            CHECK(std::count(s.begin(), s.end(), 'x') == static_cast<std::ptrdiff_t>(size));
        }
    }
}
