// Test bundles: random parts signed by a fresh key, and a source that hands them over in pieces.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "berth/sys.hpp"
#include "berth/update/bundle.hpp"
#include "berth/update/bundle_builder.hpp"

namespace berth::update::test {

namespace fs = std::filesystem;

// A bundle's bytes handed over in uneven pieces, as a pipe would.
class MemorySource : public ByteSource {
public:
    explicit MemorySource(std::string data, size_t piece = 7000) : data_(std::move(data)), piece_(piece) {}
    berth::Result<size_t> read_some(std::span<unsigned char> buffer) override {
        size_t n = std::min({buffer.size(), piece_, data_.size() - at_});
        std::copy_n(data_.data() + at_, n, buffer.data());
        at_ += n;
        return n;
    }

private:
    std::string data_;
    size_t piece_, at_ = 0;
};

struct Workdir {
    fs::path dir;
    Workdir() {
        char tmpl[] = "/tmp/berth-bundle-test.XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    ~Workdir() { fs::remove_all(dir); }
    std::string write(const std::string& name, const std::string& content) const {
        std::ofstream(dir / name, std::ios::binary) << content;
        return (dir / name).string();
    }
};

inline std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(gen());
    return out;
}

inline const std::string kRootHash = std::string(64, 'a');

inline BundleManifest base_manifest() {
    BundleManifest m;
    m.version = "0.2.0";
    m.min_version = "0.1.0";
    m.build_id = "test.1";
    m.architecture = "x86_64";
    m.compatible = "berth-x86_64-efi";
    m.created = "2026-12-03T13:00:00Z";
    m.cmdline = "root=PARTLABEL=root-@SLOT@ berth.slot=@SLOT@ berth.verity=" + kRootHash;
    m.verity_root_hash = kRootHash;
    m.verity_salt = "00ff";
    for (auto& part : m.parts) part.size = 1;  // write_bundle fills in the real ones
    return m;
}

inline std::string flipped(std::string bytes, size_t at) {
    bytes.at(at) ^= 0x01;
    return bytes;
}

struct Fixture {
    Workdir work;
    SecretKey key, other;
    std::vector<TrustedKey> trusted;
    std::array<std::string, 3> parts{random_bytes(300000, 1), random_bytes(120000, 2), random_bytes(5000, 3)};
    std::string bundle;  // the bytes
    size_t header_bytes = 0;

    Fixture() {
        REQUIRE(init_crypto());
        key = generate_secret_key();
        other = generate_secret_key();
        trusted = {{key.public_key(), "release.pub"}};
        bundle = make({key});
    }
    std::string make(const std::vector<SecretKey>& keys, BundleManifest m = base_manifest()) {
        std::array<std::string, 3> files{work.write("root", parts[0]), work.write("kernel", parts[1]), work.write("initramfs", parts[2])};
        auto written = write_bundle(m, files, keys, (work.dir / "out.bundle").string());
        REQUIRE(written);
        header_bytes = encode_header(format_manifest(*written), std::vector<BundleSignature>(keys.size())).size();
        auto text = berth::sys::read_file((work.dir / "out.bundle").string());
        REQUIRE(text);
        return *text;
    }
};

}  // namespace berth::update::test
