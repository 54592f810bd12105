#include "berth/update/bundle.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "berth/parse_integer.hpp"
#include "berth/update/version.hpp"

namespace berth::update {
namespace {

constexpr std::string_view kManifestHeading = "# Berth update bundle manifest";
constexpr std::string_view kSignedDomain = "berth-update-bundle-v1\n";
constexpr size_t kChunk = 1 << 20;  // what a part is read and handed on in
constexpr uint64_t kMaxPartBytes = uint64_t{1} << 40;

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t get_u32(const unsigned char* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

bool all_of(std::string_view s, const char* extra) {
    return std::all_of(s.begin(), s.end(), [extra](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || std::strchr(extra, c) != nullptr;
    });
}

bool printable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

// Reads exactly out.size() bytes; `what` names them when the stream ends early.
Result<void> read_exact(ByteSource& source, std::span<unsigned char> out, const std::string& what) {
    size_t got = 0;
    while (got < out.size()) {
        size_t n = TRY(source.read_some(out.subspan(got)));
        if (n == 0)
            return fail("the stream ended after " + std::to_string(got) + " of the " + std::to_string(out.size()) +
                        " bytes of " + what + " (truncated bundle)");
        got += n;
    }
    return {};
}

// One manifest value's rule: checks and stores it.
using FieldSetter = std::function<Result<void>(BundleManifest&, const std::string&)>;

Result<void> check_version(const std::string& value) {
    if (!is_valid_version(value))
        return fail("'" + value.substr(0, 80) + "' is not a version (a digit, then up to 63 letters, digits and . ~ ^ - + _)");
    return {};
}

Result<void> set_word(std::string& field, const std::string& value, size_t max, const char* extra, const char* what) {
    if (value.empty() || value.size() > max || !all_of(value, extra))
        return fail("'" + value.substr(0, 80) + "' is not " + what);
    field = value;
    return {};
}

Result<void> set_hex(std::string& field, const std::string& value, size_t min_bytes, size_t max_bytes) {
    if (value.size() % 2 || value.size() < 2 * min_bytes || value.size() > 2 * max_bytes)
        return fail("'" + value.substr(0, 80) + "' is not " + std::to_string(min_bytes) + "–" + std::to_string(max_bytes) + " bytes in hex");
    TRY(from_hex(value, value.size() / 2));
    field = value;
    return {};
}

Result<void> set_size(uint64_t& field, const std::string& value) {
    auto size = parse_integer<uint64_t>(value, 1, kMaxPartBytes);
    if (!size) return fail("'" + value.substr(0, 80) + "' is not a size in bytes (1 to 2^40)");
    field = *size;
    return {};
}

Result<void> set_sha256(Sha256& field, const std::string& value) {
    auto bytes = TRY(from_hex(value, 32));
    std::copy(bytes.begin(), bytes.end(), field.begin());
    return {};
}

const std::map<std::string, FieldSetter, std::less<>>& manifest_fields() {
    static const std::map<std::string, FieldSetter, std::less<>> fields = [] {
        std::map<std::string, FieldSetter, std::less<>> f;
        f["format"] = [](BundleManifest&, const std::string& v) -> Result<void> {
            if (v != std::to_string(kBundleFormat)) return fail("'" + v.substr(0, 20) + "': this host reads format " + std::to_string(kBundleFormat));
            return {};
        };
        f["version"] = [](BundleManifest& m, const std::string& v) -> Result<void> { TRY(check_version(v)); m.version = v; return {}; };
        f["min_version"] = [](BundleManifest& m, const std::string& v) -> Result<void> { TRY(check_version(v)); m.min_version = v; return {}; };
        f["build_id"] = [](BundleManifest& m, const std::string& v) { return set_word(m.build_id, v, 128, "._-", "a build id (up to 128 letters, digits and . _ -)"); };
        f["architecture"] = [](BundleManifest& m, const std::string& v) { return set_word(m.architecture, v, 32, "_", "an architecture such as x86_64"); };
        f["compatible"] = [](BundleManifest& m, const std::string& v) { return set_word(m.compatible, v, 64, "._-", "an image family (up to 64 letters, digits and . _ -)"); };
        f["created"] = [](BundleManifest& m, const std::string& v) { return set_word(m.created, v, 32, ":-+.", "a UTC time such as 2026-12-03T13:00:00Z"); };
        f["key"] = [](BundleManifest& m, const std::string& v) -> Result<void> {
            if (v != "release" && v != "development") return fail("'" + v.substr(0, 40) + "' is neither 'release' nor 'development'");
            m.development_key = v == "development";
            return {};
        };
        f["cmdline"] = [](BundleManifest& m, const std::string& v) -> Result<void> {
            if (v.empty() || v.size() > 2048 || !printable(v)) return fail("must be 1–2048 printable characters");
            if (v.find(kSlotPlaceholder) == std::string::npos) return fail("has no " + std::string(kSlotPlaceholder) + " where the slot goes");
            m.cmdline = v;
            return {};
        };
        f["verity.root_hash"] = [](BundleManifest& m, const std::string& v) { return set_hex(m.verity_root_hash, v, 32, 64); };
        f["verity.salt"] = [](BundleManifest& m, const std::string& v) { return set_hex(m.verity_salt, v, 0, 256); };
        for (size_t i = 0; i < 3; ++i) {
            std::string name = BundleManifest{}.parts[i].name;
            f[name + ".size"] = [i](BundleManifest& m, const std::string& v) { return set_size(m.parts[i].size, v); };
            f[name + ".sha256"] = [i](BundleManifest& m, const std::string& v) { return set_sha256(m.parts[i].sha256, v); };
        }
        return f;
    }();
    return fields;
}

}  // namespace

uint64_t BundleManifest::payload_bytes() const {
    uint64_t total = 0;
    for (const auto& p : parts) total += p.size;
    return total;
}

std::string BundleManifest::cmdline_for(std::string_view slot) const {
    std::string out = cmdline;
    for (size_t at; (at = out.find(kSlotPlaceholder)) != std::string::npos;) out.replace(at, kSlotPlaceholder.size(), slot);
    return out;
}

std::string format_manifest(const BundleManifest& m) {
    std::ostringstream out;
    out << kManifestHeading << "\n"
        << "format = " << kBundleFormat << "\n"
        << "version = " << m.version << "\n"
        << "min_version = " << m.min_version << "\n"
        << "build_id = " << m.build_id << "\n"
        << "architecture = " << m.architecture << "\n"
        << "compatible = " << m.compatible << "\n"
        << "created = " << m.created << "\n"
        << "key = " << (m.development_key ? "development" : "release") << "\n"
        << "cmdline = " << m.cmdline << "\n"
        << "verity.root_hash = " << m.verity_root_hash << "\n"
        << "verity.salt = " << m.verity_salt << "\n";
    for (const auto& p : m.parts) out << p.name << ".size = " << p.size << "\n" << p.name << ".sha256 = " << to_hex(p.sha256) << "\n";
    return out.str();
}

Result<BundleManifest> parse_manifest(std::string_view text) {
    const auto& fields = manifest_fields();
    BundleManifest m;
    std::map<std::string, int, std::less<>> seen;
    std::istringstream in{std::string(text)};
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        std::string where = "bundle manifest line " + std::to_string(number);
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find(" = ");
        if (eq == std::string::npos) return fail(where + ": expected 'key = value'");
        std::string key = line.substr(0, eq), value = line.substr(eq + 3);
        auto field = fields.find(key);
        if (field == fields.end()) return fail(where + ": unknown key '" + key.substr(0, 60) + "'");
        if (auto [it, fresh] = seen.emplace(key, number); !fresh)
            return fail(where + ": key '" + key + "' again (first on line " + std::to_string(it->second) + ")");
        TRY_CTX(field->second(m, value), where + ": key '" + key + "'");
    }
    for (const auto& [key, setter] : fields)
        if (!seen.count(key)) return fail("bundle manifest: key '" + key + "' is missing");
    if (compare_versions(m.min_version, m.version) > 0)
        return fail("bundle manifest: min_version " + m.min_version + " is newer than version " + m.version);
    if (m.cmdline.find(m.verity_root_hash) == std::string::npos)
        return fail("bundle manifest: the command line does not carry the root hash verity.root_hash");
    return m;
}

std::string signed_message(std::string_view manifest_text) { return std::string(kSignedDomain) + std::string(manifest_text); }

std::string encode_header(std::string_view manifest_text, const std::vector<BundleSignature>& signatures) {
    std::string out(kBundleMagic);
    put_u32(out, kBundleFormat);
    put_u32(out, static_cast<uint32_t>(manifest_text.size()));
    out += manifest_text;
    put_u32(out, static_cast<uint32_t>(signatures.size()));
    for (const auto& s : signatures) {
        out.append(reinterpret_cast<const char*>(s.key.data()), s.key.size());
        out.append(reinterpret_cast<const char*>(s.signature.data()), s.signature.size());
    }
    return out;
}

Result<size_t> FdSource::read_some(std::span<unsigned char> buffer) {
    for (;;) {
        ssize_t n = ::read(fd_, buffer.data(), buffer.size());
        if (n >= 0) return static_cast<size_t>(n);
        if (errno != EINTR) return fail_sys("read the bundle");
    }
}

Result<VerifiedHeader> read_verified_header(ByteSource& source, const std::vector<TrustedKey>& trusted) {
    std::array<unsigned char, 16> start{};
    TRY(read_exact(source, start, "the header"));
    if (std::string_view(reinterpret_cast<const char*>(start.data()), 8) != kBundleMagic)
        return fail("not a Berth update bundle (it does not start with " + std::string(kBundleMagic) + ")");
    if (uint32_t format = get_u32(start.data() + 8); format != kBundleFormat)
        return fail("bundle format " + std::to_string(format) + ": this host reads format " + std::to_string(kBundleFormat) +
                    " (a newer berthctl may be needed)");
    uint32_t manifest_bytes = get_u32(start.data() + 12);
    if (manifest_bytes == 0 || manifest_bytes > kMaxManifestBytes)
        return fail("bundle manifest of " + std::to_string(manifest_bytes) + " bytes (at most " + std::to_string(kMaxManifestBytes) + ")");
    VerifiedHeader header;
    header.manifest_text.resize(manifest_bytes);
    TRY(read_exact(source, std::span(reinterpret_cast<unsigned char*>(header.manifest_text.data()), manifest_bytes), "the manifest"));
    std::array<unsigned char, 4> count_bytes{};
    TRY(read_exact(source, count_bytes, "the signature count"));
    uint32_t count = get_u32(count_bytes.data());
    if (count == 0) return fail("the bundle is not signed");
    if (count > kMaxSignatures) return fail("the bundle has " + std::to_string(count) + " signatures (at most " + std::to_string(kMaxSignatures) + ")");
    std::vector<BundleSignature> signatures(count);
    for (auto& s : signatures) {
        TRY(read_exact(source, s.key, "a signature's key"));
        TRY(read_exact(source, s.signature, "a signature"));
    }
    header.header_bytes = 16 + manifest_bytes + 4 + uint64_t{count} * 96;

    // Authenticate before believing a word of the manifest. A trusted key's signature that does not
    // match is an altered bundle, even if another signature would.
    std::string message = signed_message(header.manifest_text);
    const TrustedKey* signer = nullptr;
    std::string unknown;
    for (const auto& s : signatures) {
        auto key = std::find_if(trusted.begin(), trusted.end(), [&](const TrustedKey& t) { return t.key == s.key; });
        if (key == trusted.end()) {
            unknown += (unknown.empty() ? "" : ", ") + key_id(s.key);
            continue;
        }
        if (!verify_signature(s.key, s.signature, message))
            return fail("the signature by key " + key_id(s.key) + " (trusted, from " + key->source +
                        ") does not match the manifest: the bundle was altered or damaged");
        signer = &*key;
    }
    if (!signer) {
        std::string known;
        for (const auto& t : trusted) known += (known.empty() ? "" : ", ") + key_id(t.key) + " (" + t.source + ")";
        return fail("the bundle is signed by key " + unknown + ", which is not trusted here; trusted keys: " + known);
    }
    header.signer = signer->key;
    header.signer_source = signer->source;
    header.manifest = TRY(parse_manifest(header.manifest_text));
    return header;
}

Result<void> read_part(ByteSource& source, const BundlePart& part, const ChunkSink& sink) {
    std::vector<unsigned char> buffer(std::min<uint64_t>(kChunk, part.size));
    Sha256Stream hash;
    uint64_t done = 0;
    while (done < part.size) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), part.size - done));
        size_t n = TRY(source.read_some(std::span(buffer).first(want)));
        if (n == 0)
            return fail("the stream ended after " + std::to_string(done) + " of the " + std::to_string(part.size) +
                        " bytes of part " + part.name + " (truncated bundle)");
        auto chunk = std::span<const unsigned char>(buffer).first(n);
        hash.update(chunk);
        TRY(sink(chunk));
        done += n;
    }
    if (auto digest = hash.finish(); digest != part.sha256)
        return fail("part " + part.name + ": its SHA-256 is " + to_hex(digest) + ", the signed manifest says " +
                    to_hex(part.sha256) + " (altered or damaged)");
    return {};
}

Result<void> expect_end(ByteSource& source) {
    std::array<unsigned char, 1> extra{};
    if (TRY(source.read_some(extra)) != 0) return fail("the stream goes on after the last part (not a bundle of this manifest)");
    return {};
}

Result<VerifiedHeader> verify_bundle(ByteSource& source, const std::vector<TrustedKey>& trusted) {
    auto header = TRY(read_verified_header(source, trusted));
    for (const auto& part : header.manifest.parts)
        TRY(read_part(source, part, [](std::span<const unsigned char>) -> Result<void> { return {}; }));
    TRY(expect_end(source));
    return header;
}

}  // namespace berth::update
