// Update bundles: what a new version of the host is made of, signed, in one stream that a host can
// check and write as it arrives (docs/updates.md, "Bundle format"):
//
//   "BERTHUPD" | u32 format (1) | u32 manifest length | manifest (text) |
//   u32 signature count | count × (32-byte Ed25519 public key, 64-byte signature) |
//   root | kernel | initramfs                       (the parts, back to back, in the order written)
//
// Integers are little-endian. The signatures cover the manifest; the manifest names each part's
// size and SHA-256, so they cover every byte. Nothing is read past the last part.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"
#include "berth/update/crypto.hpp"

namespace berth::update {

inline constexpr std::string_view kBundleMagic = "BERTHUPD";
inline constexpr uint32_t kBundleFormat = 1;
inline constexpr uint32_t kMaxManifestBytes = 64 * 1024;
inline constexpr uint32_t kMaxSignatures = 8;
// The word the kernel command line of a bundle holds where the slot goes ("root-@SLOT@").
inline constexpr std::string_view kSlotPlaceholder = "@SLOT@";

struct BundlePart {
    std::string name;  // "root", "kernel", "initramfs"
    uint64_t size = 0;
    Sha256 sha256{};
};

enum class PartIndex { Root = 0, Kernel = 1, Initramfs = 2 };

struct BundleManifest {
    std::string version;            // what this bundle installs (the boot entry's version)
    std::string min_version;        // the oldest running version it may update
    std::string build_id;
    std::string architecture;       // uname's machine: "x86_64"
    std::string compatible;         // the image family; must equal the host's
    std::string created;            // when it was built, UTC ("2026-12-03T13:00:00Z")
    bool development_key = false;   // signed by a key the build made up (no release key given)
    std::string cmdline;            // the slot's kernel command line, "@SLOT@" where the slot letter goes
    std::string verity_root_hash;   // hex; the root part is the slot's erofs + its dm-verity hash tree
    std::string verity_salt;        // hex
    std::array<BundlePart, 3> parts{{{"root"}, {"kernel"}, {"initramfs"}}};  // in stream order

    const BundlePart& part(PartIndex index) const { return parts[static_cast<size_t>(index)]; }
    BundlePart& part(PartIndex index) { return parts[static_cast<size_t>(index)]; }
    uint64_t payload_bytes() const;
    // The command line for `slot` ("a", "b").
    std::string cmdline_for(std::string_view slot) const;
};

std::string format_manifest(const BundleManifest& manifest);
// Strict: every key once, no unknown key, every value checked; errors name the line and the key.
Result<BundleManifest> parse_manifest(std::string_view text);

// What the signatures sign: a domain string, then the manifest's bytes.
std::string signed_message(std::string_view manifest_text);

struct BundleSignature {
    PublicKey key{};
    Signature signature{};
};

// Everything before the parts.
std::string encode_header(std::string_view manifest_text, const std::vector<BundleSignature>& signatures);

// Where bundle bytes come from: a file, a pipe, a socket. read_some returns 0 at the end.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual Result<size_t> read_some(std::span<unsigned char> buffer) = 0;
};

class FdSource : public ByteSource {
public:
    explicit FdSource(int fd) : fd_(fd) {}
    Result<size_t> read_some(std::span<unsigned char> buffer) override;

private:
    int fd_;
};

struct VerifiedHeader {
    BundleManifest manifest;
    std::string manifest_text;
    PublicKey signer{};
    std::string signer_source;  // the trusted key's file
    uint64_t header_bytes = 0;
};

// Reads the header and checks it before anything else is believed: the magic and format, then a
// signature by a trusted key over the manifest, and only then parses the manifest.
Result<VerifiedHeader> read_verified_header(ByteSource& source, const std::vector<TrustedKey>& trusted);

using ChunkSink = std::function<Result<void>(std::span<const unsigned char>)>;
// Reads one part, handing it to `sink` in chunks as it arrives, and fails on a short stream or a
// SHA-256 that is not the signed one. The sink has seen every byte when the hash is checked:
// callers that must not keep unchecked bytes stage them (see apply).
Result<void> read_part(ByteSource& source, const BundlePart& part, const ChunkSink& sink);
// The stream must end after the last part.
Result<void> expect_end(ByteSource& source);

// The whole bundle checked: header, signature, every part's size and hash, nothing after.
Result<VerifiedHeader> verify_bundle(ByteSource& source, const std::vector<TrustedKey>& trusted);

}  // namespace berth::update
