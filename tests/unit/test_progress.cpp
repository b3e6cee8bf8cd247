#include "core/progress.hpp"

#include <doctest/doctest.h>

using namespace syncd;
using namespace std::chrono_literals;

TEST_CASE("progress line before the plan exists")
{
    CHECK(format_progress({}, 3s) == "walking and listing");
}

TEST_CASE("progress line with rate and ETA")
{
    cycle_progress p{true, 10, 10ull << 20, 5, 4ull << 20};
    // 4 MiB in 2 s = 2 MiB/s; 6 MiB left -> 3 s
    CHECK(format_progress(p, 2s) == "5/10 files, 4.0 MiB/10.0 MiB, 2.0 MiB/s, ETA 3s");
}

TEST_CASE("progress line when nothing has moved yet or everything is done")
{
    cycle_progress p{true, 3, 300, 0, 0};
    CHECK(format_progress(p, 0s) == "0/3 files, 0 B/300 B, 0 B/s, ETA unknown");
    p.files_done = 3;
    p.bytes_done = 300;
    CHECK(format_progress(p, 1s) == "3/3 files, 300 B/300 B, 300 B/s");
}

TEST_CASE("ETA formatting")
{
    CHECK(format_eta(0s) == "0s");
    CHECK(format_eta(59s) == "59s");
    CHECK(format_eta(200s) == "3m20s");
    CHECK(format_eta(3720s) == "1h02m");
    CHECK(format_eta(-5s) == "0s");
}
