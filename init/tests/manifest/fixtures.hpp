// Shared test helpers: temporary directories, a fake image with its own passwd and group,
// and one-line parsing helpers.
#pragma once

#include <string>

#include "berth/manifest/manifest.hpp"

namespace berth::manifest::test {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // Writes `content` to path()/relative, creating parent directories; returns the full path.
    std::string write(const std::string& relative, const std::string& content) const;

private:
    std::string path_;
};

// <dir>/images/app: an image whose etc/passwd and etc/group define root, daemon, www (33),
// app (1000, also in audio and video) and nobody. The context points at it.
struct FakeImages {
    TempDir dir;
    SpecContext context;
    std::string app_root;
    FakeImages();
};

std::string data_dir();                         // init/tests/manifest/data
std::string read_text(const std::string& path);
std::string replace_all(std::string text, const std::string& from, const std::string& to);

// Parses `text` as file `file`; fails the test with the error if it does not parse.
ServiceManifest parse_ok(const std::string& text, const std::string& file = "svc.toml");
// The error text for a manifest that must not parse ("<parsed>" if it did).
std::string parse_error(const std::string& text, const std::string& file = "svc.toml");

}  // namespace berth::manifest::test
