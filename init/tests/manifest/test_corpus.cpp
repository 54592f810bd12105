// The manifest corpus: every file in data/bad/ fails with exactly the message in its
// .expected sidecar, every file in data/good/ becomes a plan the runtime accepts, and every
// example in docs/manifests.md parses.
#include <catch2/catch.hpp>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "berth/runtime/oci_config.hpp"
#include "fixtures.hpp"

using namespace berth::manifest;
using namespace berth::manifest::test;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_in(const std::string& dir, const std::string& extension) {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == extension) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Parse, then plan: the first error of either, located in a file named just "<stem>.toml".
std::string first_error(const fs::path& file, const FakeImages& images) {
    std::string text = replace_all(read_text(file.string()), "@DATA@", data_dir());
    auto manifest = parse_manifest(text, file.filename().string());
    if (!manifest) return manifest.error().describe();
    auto spec = to_container_spec(*manifest, images.context);
    if (!spec) return spec.error().describe();
    return "<no error>";
}

}  // namespace

TEST_CASE("every bad manifest fails with its exact expected message", "[unit][manifest][corpus]") {
    FakeImages images;
    auto files = files_in(data_dir() + "/bad", ".toml");
    REQUIRE(files.size() >= 40);
    for (const auto& file : files) {
        fs::path expected_file = file;
        expected_file.replace_extension(".expected");
        INFO("manifest: " << file.string());
        REQUIRE(fs::exists(expected_file));
        std::string expected = read_text(expected_file.string());
        while (!expected.empty() && expected.back() == '\n') expected.pop_back();
        expected = replace_all(replace_all(expected, "@IMAGES@", images.context.images_root), "@DATA@", data_dir());
        CHECK(first_error(file, images) == expected);
    }
}

TEST_CASE("every good manifest parses and becomes a plan the runtime accepts", "[unit][manifest][corpus]") {
    FakeImages images;
    auto files = files_in(data_dir() + "/good", ".toml");
    REQUIRE(files.size() >= 15);
    for (const auto& file : files) {
        INFO("manifest: " << file.string());
        std::string text = replace_all(read_text(file.string()), "@DATA@", data_dir());
        auto manifest = parse_manifest(text, file.string());
        REQUIRE(manifest);
        CHECK(manifest->name == file.stem().string());
        auto spec = to_container_spec(*manifest, images.context);
        if (!spec) FAIL(spec.error().describe());
        // The plan survives the runtime's own validation of config.json.
        auto reparsed = berth::runtime::parse_config(berth::runtime::spec_to_json(*spec).dump(), "/");
        if (!reparsed) FAIL(reparsed.error().describe());
        CHECK(reparsed->process.args == spec->process.args);
    }
}

TEST_CASE("every example in docs/manifests.md parses", "[unit][manifest][docs]") {
    // Examples are ```toml blocks whose first line is "# <service>.toml".
    std::string doc = read_text(std::string(BERTH_DOCS_DIR) + "/manifests.md");
    size_t examples = 0;
    for (size_t at = doc.find("```toml\n"); at != std::string::npos; at = doc.find("```toml\n", at)) {
        size_t start = at + 8;
        size_t end = doc.find("```", start);
        REQUIRE(end != std::string::npos);
        std::string block = doc.substr(start, end - start);
        at = end + 3;
        if (block.rfind("# ", 0) != 0) continue;
        std::string file = block.substr(2, block.find('\n') - 2);
        if (file.size() < 6 || file.substr(file.size() - 5) != ".toml") continue;
        INFO("example: " << file);
        auto parsed = parse_manifest(block, file);
        if (!parsed) FAIL(parsed.error().describe());
        ++examples;
    }
    CHECK(examples >= 10);
}
