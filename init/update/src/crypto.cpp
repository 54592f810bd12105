#include "berth/update/crypto.hpp"

// SHA256_* are deprecated in OpenSSL 3 in favour of EVP, whose providers would link every algorithm.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <dirent.h>

#include <algorithm>
#include <sstream>

#include "berth/sys.hpp"

namespace berth::update {
namespace {

constexpr std::string_view kPublicTag = "berth-ed25519";
constexpr std::string_view kSecretTag = "berth-ed25519-secret";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A key file's lines that are not blank or comments: "TAG HEX [comment]".
struct KeyLine {
    int number = 0;
    std::string tag, hex;
};

std::vector<KeyLine> key_lines(std::string_view text) {
    std::vector<KeyLine> lines;
    std::istringstream in{std::string(text)};
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        KeyLine words{++number};
        std::istringstream(line) >> words.tag >> words.hex;
        if (!words.tag.empty() && words.tag[0] != '#') lines.push_back(std::move(words));
    }
    return lines;
}

std::string where(std::string_view source, int line) { return std::string(source) + " line " + std::to_string(line); }

}  // namespace

PublicKey SecretKey::public_key() const {
    PublicKey key{};
    std::copy(bytes.begin() + 32, bytes.end(), key.begin());
    return key;
}

Result<void> init_crypto() {
    if (::sodium_init() < 0) return fail("libsodium could not be initialised");
    return {};
}

std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

Result<std::vector<unsigned char>> from_hex(std::string_view hex, size_t size) {
    if (hex.size() != size * 2)
        return fail("'" + std::string(hex.substr(0, 80)) + "' is not " + std::to_string(size * 2) + " hex digits");
    std::vector<unsigned char> out(size);
    for (size_t i = 0; i < size; ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return fail("'" + std::string(hex.substr(0, 80)) + "' holds a character that is not a hex digit");
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return out;
}

std::string key_id(const PublicKey& key) {
    Sha256 digest{};
    crypto_hash_sha256(digest.data(), key.data(), key.size());
    return to_hex(std::span(digest).first(8));
}

SecretKey generate_secret_key() {
    SecretKey key;
    PublicKey pub{};
    crypto_sign_ed25519_keypair(pub.data(), key.bytes.data());
    return key;
}

std::string format_public_key(const PublicKey& key, std::string_view comment) {
    return std::string(kPublicTag) + " " + to_hex(key) + (comment.empty() ? "" : " " + std::string(comment)) + "\n";
}

std::string format_secret_key(const SecretKey& key) {
    return std::string(kSecretTag) + " " + to_hex(std::span(key.bytes).first(32)) + "\n";
}

Result<std::vector<PublicKey>> parse_public_keys(std::string_view text, std::string_view source) {
    std::vector<PublicKey> keys;
    for (const auto& line : key_lines(text)) {
        std::string at = where(source, line.number);
        if (line.tag == kSecretTag)
            return fail(at + ": this is a secret key; a host is given public keys only (" + std::string(kPublicTag) + " <hex>)");
        if (line.tag != kPublicTag)
            return fail(at + ": expected '" + std::string(kPublicTag) + " <64 hex digits>', found '" + line.tag.substr(0, 40) + "'");
        auto bytes = TRY_CTX(from_hex(line.hex, 32), at + ": public key");
        PublicKey key{};
        std::copy(bytes.begin(), bytes.end(), key.begin());
        keys.push_back(key);
    }
    return keys;
}

Result<SecretKey> parse_secret_key(std::string_view text, std::string_view source) {
    auto lines = key_lines(text);
    if (lines.empty()) return fail(std::string(source) + ": no secret key in the file");
    const auto& line = lines.front();
    if (line.tag != kSecretTag)
        return fail(where(source, line.number) + ": expected '" + std::string(kSecretTag) + " <64 hex digits>'");
    auto seed = TRY_CTX(from_hex(line.hex, 32), where(source, line.number) + ": secret key");
    SecretKey key;
    PublicKey pub{};
    crypto_sign_ed25519_seed_keypair(pub.data(), key.bytes.data(), seed.data());
    ::sodium_memzero(seed.data(), seed.size());
    return key;
}

Result<std::vector<TrustedKey>> load_key_files(const std::vector<std::string>& files) {
    std::vector<TrustedKey> trusted;
    for (const auto& file : files) {
        auto text = TRY(sys::read_file(file));
        for (const auto& key : TRY(parse_public_keys(text, file))) trusted.push_back({key, file});
    }
    if (trusted.empty()) return fail("no public key to check bundles with" + (files.empty() ? std::string() : " in " + files.front()));
    return trusted;
}

Result<std::vector<TrustedKey>> load_trusted_keys(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return fail_sys("open the trusted update keys directory " + dir);
    std::vector<std::string> files;
    while (auto* entry = ::readdir(d)) {
        std::string name = entry->d_name;
        if (name.size() > 4 && name.ends_with(".pub")) files.push_back(dir + "/" + name);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
    if (files.empty()) return fail("no *.pub key in " + dir + ": this host trusts no update key");
    return load_key_files(files);
}

Signature sign(const SecretKey& key, std::string_view message) {
    Signature signature{};
    crypto_sign_ed25519_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size(), key.bytes.data());
    return signature;
}

bool verify_signature(const PublicKey& key, const Signature& signature, std::string_view message) {
    return crypto_sign_ed25519_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                               message.size(), key.data()) == 0;
}

namespace {
SHA256_CTX* sha256_context(std::array<unsigned char, 112>& state) { return reinterpret_cast<SHA256_CTX*>(state.data()); }
}  // namespace
static_assert(sizeof(SHA256_CTX) <= 112 && alignof(SHA256_CTX) <= 8);

Sha256Stream::Sha256Stream() { SHA256_Init(sha256_context(state_)); }

void Sha256Stream::update(std::span<const unsigned char> data) { SHA256_Update(sha256_context(state_), data.data(), data.size()); }

void Sha256Stream::update(std::string_view data) { SHA256_Update(sha256_context(state_), data.data(), data.size()); }

Sha256 Sha256Stream::finish() {
    Sha256 digest{};
    SHA256_Final(digest.data(), sha256_context(state_));
    return digest;
}

}  // namespace berth::update
