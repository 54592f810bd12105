#include "fixtures.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace berth::manifest::test {

TempDir::TempDir() {
    char pattern[] = "/tmp/berth-manifest-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir must not fail a test
    std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& relative, const std::string& content) const {
    std::filesystem::path full = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full) << content;
    return full.string();
}

FakeImages::FakeImages() {
    app_root = dir.path() + "/images/app";
    dir.write("images/app/etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\n"
              "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
              "# a comment, then a malformed line\n"
              "broken-line\n"
              "www:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
              "app:x:1000:1000:App:/home/app:/bin/sh\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    dir.write("images/app/etc/group",
              "root:x:0:\n"
              "daemon:x:1:\n"
              "audio:x:29:app,www\n"
              "www:x:33:\n"
              "video:x:44:app\n"
              "app:x:1000:\n"
              "nogroup:x:65534:\n");
    context.images_root = dir.path() + "/images";
    context.volumes_root = "/var/lib/berth/volumes";
    context.state_dir = "/run/berth/services";
    context.resolver_config = "/etc/resolv.conf";
}

std::string data_dir() { return BERTH_MANIFEST_TEST_DATA; }

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

ServiceManifest parse_ok(const std::string& text, const std::string& file) {
    auto parsed = parse_manifest(text, file);
    if (!parsed) FAIL(parsed.error().describe());
    return *parsed;
}

std::string parse_error(const std::string& text, const std::string& file) {
    auto parsed = parse_manifest(text, file);
    return parsed ? "<parsed>" : parsed.error().describe();
}

}  // namespace berth::manifest::test
