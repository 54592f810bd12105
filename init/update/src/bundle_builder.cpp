#include "berth/update/bundle_builder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "berth/sys.hpp"

namespace berth::update {
namespace {

// Streams a file through `each` in 1 MiB chunks.
Result<uint64_t> for_each_chunk(const std::string& path, const std::function<Result<void>(std::string_view)>& each) {
    auto fd = TRY(sys::open(path, O_RDONLY | O_CLOEXEC));
    std::string buffer(1 << 20, '\0');
    uint64_t total = 0;
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_sys("read " + path);
        if (n == 0) return total;
        TRY(each(std::string_view(buffer).substr(0, static_cast<size_t>(n))));
        total += static_cast<uint64_t>(n);
    }
}

}  // namespace

Result<VerityFacts> parse_verity_facts(std::string_view text, std::string_view source) {
    VerityFacts facts;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq == std::string::npos || line[0] == '#') continue;
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        if (key == "root_hash") facts.root_hash = value;
        else if (key == "salt") facts.salt = value;
    }
    if (facts.root_hash.empty()) return fail(std::string(source) + ": no root_hash=");
    return facts;
}

Result<BundleManifest> write_bundle(BundleManifest manifest, const std::array<std::string, 3>& part_files,
                                    const std::vector<SecretKey>& keys, const std::string& out) {
    if (keys.empty()) return fail("no key to sign the bundle with");
    for (size_t i = 0; i < part_files.size(); ++i) {
        Sha256Stream hash;
        manifest.parts[i].size = TRY(for_each_chunk(part_files[i], [&](std::string_view chunk) -> Result<void> {
            hash.update(chunk);
            return {};
        }));
        manifest.parts[i].sha256 = hash.finish();
    }
    std::string text = format_manifest(manifest);
    // What the host will check, checked here first: a bundle the build cannot read back is a build error.
    TRY_CTX(parse_manifest(text), "the manifest this build wrote");
    std::vector<BundleSignature> signatures;
    for (const auto& key : keys) signatures.push_back({key.public_key(), sign(key, signed_message(text))});

    std::string tmp = out + ".tmp";
    auto fd = TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    TRY(sys::write_all(fd.get(), encode_header(text, signatures)));
    for (size_t i = 0; i < part_files.size(); ++i) {
        auto copied = TRY(for_each_chunk(part_files[i], [&](std::string_view chunk) { return sys::write_all(fd.get(), chunk); }));
        if (copied != manifest.parts[i].size) return fail(part_files[i] + " changed while the bundle was written");
    }
    if (::fsync(fd.get()) != 0) return fail_sys("fsync " + tmp);
    fd.reset();
    if (::rename(tmp.c_str(), out.c_str()) != 0) return fail_sys("rename " + tmp + " to " + out);
    return manifest;
}

}  // namespace berth::update
