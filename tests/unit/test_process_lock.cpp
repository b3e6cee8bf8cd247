#include "app/process_lock.hpp"
#include "engine/state.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <unistd.h>

using namespace syncd;

TEST_CASE("process lock: one holder per target, and the same target however it is spelled")
{
    testing::temp_dir tmp;
    const auto tree = tmp.path / "tree";
    std::filesystem::create_directories(tree);
    const auto state = tmp.path / "state";
    const target_id t{canonical_dir(tree), std::nullopt, "bkt", ""};
    {
        auto first = process_lock::acquire(state, t);
        REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().message));
        CHECK(std::filesystem::exists(lock_file_path(state, t)));

        // A second acquire, even by the same process (as a reload would), is refused: flock(2)
        // locks belong to an open file, not to a process.
        const target_id spelled_otherwise{canonical_dir(tree.string() + "/./"), std::nullopt, "bkt", ""};
        auto second = process_lock::acquire(state, spelled_otherwise);
        REQUIRE(!second);
        CHECK(second.error().message == "another syncd (pid " + std::to_string(::getpid()) + ") is already syncing " +
                                            t.local_dir.string() + " to s3://bkt/ (lock " + lock_file_path(state, t).string() +
                                            "); refusing to run a second one");

        auto other = t;
        other.prefix = "p/";
        CHECK(process_lock::acquire(state, other).has_value());
    }
    CHECK(process_lock::acquire(state, t).has_value()); // released with its holder
}

TEST_CASE("process lock: a state directory that cannot be used says what to do")
{
    testing::temp_dir tmp;
    tmp.file("state"); // a file where the directory should be
    auto lock = process_lock::acquire(tmp.path / "state", target_id{tmp.path, std::nullopt, "bkt", ""});
    REQUIRE(!lock);
    CHECK(lock.error().message.find("cannot open lock file " + (tmp.path / "state").string()) == 0);
    CHECK(lock.error().message.find("(set SYNCD_STATE_DIR to a writable directory)") != std::string::npos);
}
