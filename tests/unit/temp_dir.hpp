// A scratch directory for one test case, removed with everything in it when the test ends.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace syncd::testing {

struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& prefix = "syncd-test-")
    {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() / (prefix + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    // Writes content to rel (replacing it), making the directories on the way.
    void file(const std::string& rel, const std::string& content = "x") const
    {
        std::filesystem::create_directories((path / rel).parent_path());
        std::ofstream(path / rel, std::ios::trunc) << content;
    }
};

} // namespace syncd::testing
