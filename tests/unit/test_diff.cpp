#include "engine/diff.hpp"

#include <doctest/doctest.h>

using namespace syncd;

namespace {

tree sample()
{
    tree t;
    t.dirs.push_back({"", -1, {{"top.txt", 5, 1000}}, {1}, {}});
    t.dirs.push_back({"run1", 0, {{"a.bin", 10, 1000}, {"b.bin", 20, 1000}, {"c.bin", 30, 9'000}}, {}, {}});
    return t;
}

const file_plan& find(const std::vector<file_plan>& plan, const std::string& key)
{
    for (const auto& p : plan)
        if (p.key == key)
            return p;
    FAIL("no plan entry for " << key);
    throw 0;
}

} // namespace

TEST_CASE("diff: keys are prefix plus relative path")
{
    CHECK(object_key("", "", "a") == "a");
    CHECK(object_key("backups/", "", "a") == "backups/a");
    CHECK(object_key("backups/", "x/y", "a b") == "backups/x/y/a b");
}

TEST_CASE("diff: missing objects upload, same size verifies, other size conflicts")
{
    remote_index remote{{"p/run1/a.bin", {10, "e"}}, {"p/run1/b.bin", {21, "e"}}};
    diff_options opt{"p/", false, {}, 10'000};
    auto plan = diff(sample(), remote, opt);
    REQUIRE(plan.size() == 4);
    CHECK(find(plan, "p/top.txt").action == file_action::upload);
    CHECK(find(plan, "p/run1/a.bin").action == file_action::verified);
    CHECK(find(plan, "p/run1/b.bin").action == file_action::conflict);
    CHECK(find(plan, "p/run1/b.bin").remote_size == 21);
    CHECK(find(plan, "p/run1/c.bin").action == file_action::upload);
    CHECK(find(plan, "p/run1/c.bin").dir == 1);
    CHECK(find(plan, "p/run1/c.bin").file == 2);
}

TEST_CASE("diff: overwrite_changed turns a conflict into an overwrite")
{
    remote_index remote{{"run1/b.bin", {21, "e"}}};
    auto plan = diff(sample(), remote, {"", true, {}, 10'000});
    CHECK(find(plan, "run1/b.bin").action == file_action::overwrite);
}

TEST_CASE("diff: files younger than settle_time wait")
{
    diff_options opt{"", false, std::chrono::nanoseconds{5'000}, 10'000};
    auto plan = diff(sample(), {}, opt);
    CHECK(find(plan, "run1/a.bin").action == file_action::upload);    // 9000 ns old
    CHECK(find(plan, "run1/c.bin").action == file_action::settling);  // 1000 ns old
}

TEST_CASE("diff: keys over 1024 bytes are refused, 1024 is fine")
{
    tree t;
    t.dirs.push_back({"", -1, {{std::string(1024, 'a'), 1, 0}, {std::string(1025, 'b'), 1, 0}}, {}, {}});
    auto plan = diff(t, {}, {"", false, {}, 10});
    CHECK(plan[0].action == file_action::upload);
    CHECK(plan[1].action == file_action::invalid_key);
    auto prefixed = diff(t, {}, {"p/", false, {}, 10});
    CHECK(prefixed[0].action == file_action::invalid_key);
}

TEST_CASE("diff: an object our upload stored with bad bytes is replaced, whatever its size")
{
    remote_index remote{{"p/run1/a.bin", {10, "e"}}, {"p/run1/b.bin", {21, "e"}}};
    const std::set<std::string> suspect{"p/run1/a.bin", "p/run1/b.bin", "p/top.txt"};
    diff_options opt{"p/", false, {}, 10'000, &suspect};
    auto plan = diff(sample(), remote, opt);
    CHECK(find(plan, "p/run1/a.bin").action == file_action::overwrite); // same size, still suspect
    CHECK(find(plan, "p/run1/b.bin").action == file_action::overwrite); // no conflict: our own write
    CHECK(find(plan, "p/top.txt").action == file_action::upload);       // no object: plain upload
}
