#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "berth/sys.hpp"
#include "berth/update/bundle.hpp"
#include "berth/update/bundle_builder.hpp"
#include "bundle_fixture.hpp"

using namespace berth::update;
namespace fs = std::filesystem;

namespace {
using namespace berth::update::test;

berth::Result<VerifiedHeader> verify(const std::string& bytes, const std::vector<TrustedKey>& trusted) {
    MemorySource source(bytes);
    return verify_bundle(source, trusted);
}


}  // namespace

TEST_CASE("a bundle written by the build verifies, part by part") {
    Fixture f;
    auto header = verify(f.bundle, f.trusted);
    REQUIRE(header);
    CHECK(header->manifest.version == "0.2.0");
    CHECK(header->manifest.part(PartIndex::Root).size == 300000);
    CHECK(header->manifest.part(PartIndex::Initramfs).size == 5000);
    CHECK(header->signer_source == "release.pub");
    CHECK(header->header_bytes == f.header_bytes);
    CHECK(f.bundle.size() == f.header_bytes + 300000 + 120000 + 5000);
    CHECK(header->manifest.cmdline_for("b") == "root=PARTLABEL=root-b berth.slot=b berth.verity=" + kRootHash);

    // The parts come out as they went in, in order.
    MemorySource source(f.bundle, 4096);
    auto again = read_verified_header(source, f.trusted);
    REQUIRE(again);
    for (size_t i = 0; i < 3; ++i) {
        std::string got;
        REQUIRE(read_part(source, again->manifest.parts[i], [&](std::span<const unsigned char> c) -> berth::Result<void> {
            got.append(reinterpret_cast<const char*>(c.data()), c.size());
            return {};
        }));
        CHECK(got == f.parts[i]);
    }
    CHECK(expect_end(source));
}

TEST_CASE("a flipped byte anywhere is refused, and the error says where") {
    Fixture f;
    size_t root = f.header_bytes, kernel = root + 300000, initramfs = kernel + 120000;
    struct Case {
        size_t at;
        std::string says;
    };
    for (const auto& c : std::vector<Case>{
             {0, "not a Berth update bundle"},
             {8, "bundle format"},
             {20, "does not match the manifest"},                      // inside the manifest
             {f.header_bytes - 10, "does not match the manifest"},     // inside the signature
             {f.header_bytes - 70, "not trusted"},                     // inside the signer's key
             {root, "part root: its SHA-256"},
             {root + 150000, "part root: its SHA-256"},
             {kernel - 1, "part root: its SHA-256"},
             {kernel + 7, "part kernel: its SHA-256"},
             {initramfs + 4999, "part initramfs: its SHA-256"},
         }) {
        INFO("byte " << c.at);
        auto result = verify(flipped(f.bundle, c.at), f.trusted);
        REQUIRE_FALSE(result);
        CHECK_THAT(result.error().describe(), Catch::Contains(c.says));
    }
}

TEST_CASE("a truncated or extended stream is refused") {
    Fixture f;
    for (size_t keep : {size_t{0}, size_t{5}, size_t{100}, f.header_bytes - 1, f.header_bytes + 1, f.bundle.size() - 1}) {
        INFO("keeping " << keep << " bytes");
        auto result = verify(f.bundle.substr(0, keep), f.trusted);
        REQUIRE_FALSE(result);
        CHECK_THAT(result.error().describe(), Catch::Contains("truncated bundle"));
    }
    auto longer = verify(f.bundle + "x", f.trusted);
    REQUIRE_FALSE(longer);
    CHECK_THAT(longer.error().describe(), Catch::Contains("goes on after the last part"));
}

TEST_CASE("keys: an unknown signer is refused, and with two signatures the trusted one counts") {
    Fixture f;
    auto unknown = verify(f.bundle, {{f.other.public_key(), "other.pub"}});
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().describe(), Catch::Contains("signed by key " + key_id(f.key.public_key())));
    CHECK_THAT(unknown.error().describe(), Catch::Contains("other.pub"));

    // Rotation: signed by the old and the new key; a host that trusts either accepts it.
    auto both = f.make({f.other, f.key});
    CHECK(verify(both, f.trusted));
    CHECK(verify(both, {{f.other.public_key(), "other.pub"}}));
    // A trusted key's bad signature is an altered bundle, even when another one would pass.
    size_t second_signature = f.header_bytes - 10;
    auto result = verify(flipped(both, second_signature), {{f.other.public_key(), "o"}, {f.key.public_key(), "k"}});
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error().describe(), Catch::Contains("altered or damaged"));
}

TEST_CASE("key files: public keys parse, and a secret key is refused where a public one belongs") {
    REQUIRE(init_crypto());
    auto key = generate_secret_key();
    auto text = "# release keys\n" + format_public_key(key.public_key(), "release 2026") + "\n" +
                format_public_key(generate_secret_key().public_key(), "");
    auto keys = parse_public_keys(text, "k.pub");
    REQUIRE(keys);
    REQUIRE(keys->size() == 2);
    CHECK((*keys)[0] == key.public_key());

    auto secret = parse_secret_key(format_secret_key(key), "k.secret");
    REQUIRE(secret);
    CHECK(secret->public_key() == key.public_key());
    CHECK(sign(*secret, "m") == sign(key, "m"));

    auto wrong = parse_public_keys(format_secret_key(key), "k.pub");
    REQUIRE_FALSE(wrong);
    CHECK_THAT(wrong.error().describe(), Catch::Contains("k.pub line 1: this is a secret key"));
    auto short_hex = parse_public_keys("berth-ed25519 abcd\n", "k.pub");
    REQUIRE_FALSE(short_hex);
    CHECK_THAT(short_hex.error().describe(), Catch::Contains("k.pub line 1: public key"));
}

TEST_CASE("the manifest is strict and its errors name the line and the key") {
    auto good = format_manifest(base_manifest());
    REQUIRE(parse_manifest(good));
    auto replace = [&](const std::string& from, const std::string& to) {
        auto text = good;
        auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    };
    struct Case {
        std::string text, says;
    };
    for (const auto& c : std::vector<Case>{
             {replace("version = 0.2.0", "version = v2"), "line 3: key 'version': 'v2' is not a version"},
             {replace("format = 1", "format = 2"), "line 2: key 'format'"},
             {replace("architecture = x86_64", "architecture = x86 64"), "key 'architecture'"},
             {replace("key = release", "key = maybe"), "key 'key'"},
             {replace("root.size = 1", "root.size = -5"), "key 'root.size'"},
             {replace("min_version = 0.1.0", "min_version = 0.3"), "min_version 0.3 is newer than version 0.2.0"},
             {replace("cmdline = root=PARTLABEL=root-@SLOT@ berth.slot=@SLOT@", "cmdline = root=PARTLABEL=root-a berth.slot=a"), "no @SLOT@"},
             {replace("verity.salt = 00ff", "verity.salt = 0"), "key 'verity.salt'"},
             {good + "colour = blue\n", "unknown key 'colour'"},
             {good + "version = 0.3\n", "key 'version' again (first on line 3)"},
             {replace("build_id = test.1\n", ""), "key 'build_id' is missing"},
             {replace("cmdline = root", "cmdline root"), "expected 'key = value'"},
         }) {
        INFO(c.says);
        auto result = parse_manifest(c.text);
        REQUIRE_FALSE(result);
        CHECK_THAT(result.error().describe(), Catch::Contains(c.says));
    }
}
