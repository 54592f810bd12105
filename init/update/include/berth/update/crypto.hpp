// The cryptography of update bundles, on libsodium: Ed25519 signatures and SHA-256. Keys are text
// files, one key a line, so that a host can trust several (rotation) and people can read them.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "berth/result.hpp"

namespace berth::update {

using PublicKey = std::array<unsigned char, 32>;
using Signature = std::array<unsigned char, 64>;
using Sha256 = std::array<unsigned char, 32>;

// libsodium's secret key: the 32-byte seed followed by the public key.
struct SecretKey {
    std::array<unsigned char, 64> bytes{};
    PublicKey public_key() const;
};

// A key a host trusts, and the file it came from (for messages).
struct TrustedKey {
    PublicKey key{};
    std::string source;
};

// libsodium must be initialised once per process before any other call; safe to repeat.
Result<void> init_crypto();

std::string to_hex(std::span<const unsigned char> bytes);
// Exactly `size` bytes as 2·size lowercase or uppercase hex digits.
Result<std::vector<unsigned char>> from_hex(std::string_view hex, size_t size);

// A short name for a key in messages and listings: the first 8 bytes of its SHA-256, in hex.
std::string key_id(const PublicKey& key);

SecretKey generate_secret_key();
// Files: "berth-ed25519 <64 hex digits> [comment]" and "berth-ed25519-secret <64 hex digits of the seed>".
std::string format_public_key(const PublicKey& key, std::string_view comment);
std::string format_secret_key(const SecretKey& key);
// `source` names the file in errors: "keys/a.pub line 2: ...". Blank lines and '#' comments are
// skipped; every other line must be a key.
Result<std::vector<PublicKey>> parse_public_keys(std::string_view text, std::string_view source);
Result<SecretKey> parse_secret_key(std::string_view text, std::string_view source);
// Every *.pub file in `dir` (sorted), or the files given. No key at all is an error: a host that
// trusts nothing cannot be updated.
Result<std::vector<TrustedKey>> load_trusted_keys(const std::string& dir);
Result<std::vector<TrustedKey>> load_key_files(const std::vector<std::string>& files);

Signature sign(const SecretKey& key, std::string_view message);
bool verify_signature(const PublicKey& key, const Signature& signature, std::string_view message);

// SHA-256 over data that arrives in pieces: OpenSSL's (libcrypto, static), which uses the CPU's SHA
// extensions or AVX2 where there are some (1.7 GB/s on this machine's EPYC against 0.3 GB/s for
// libsodium's portable code; every byte of a bundle is hashed, the root twice). +26 KiB.
class Sha256Stream {
public:
    Sha256Stream();
    void update(std::span<const unsigned char> data);
    void update(std::string_view data);
    Sha256 finish();

private:
    // OpenSSL's SHA256_CTX (112 bytes), kept opaque here: its header stays out of every includer.
    alignas(8) std::array<unsigned char, 112> state_{};
};

}  // namespace berth::update
