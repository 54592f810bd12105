#include "berthctl_update.hpp"

#include <fcntl.h>

#include <cstdio>

#include "berth/paths.hpp"
#include "berth/sys.hpp"
#include "berth/update/bundle.hpp"

namespace update = berth::update;

namespace {

std::string mebibytes(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return text;
}

// update verify FILE [--key FILE.pub]...: everything a host checks before writing, on any Linux box.
berth::Result<int> verify(const std::vector<std::string>& args) {
    std::string file;
    std::vector<std::string> key_files;
    for (size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--key") {
            if (i + 1 >= args.size()) return berth::fail("update verify: --key needs a public key file");
            key_files.push_back(args[++i]);
        } else if (args[i] != "-" && args[i][0] == '-') return berth::fail("update verify: unknown flag '" + args[i] + "'");
        else if (file.empty()) file = args[i];
        else return berth::fail("update verify: expected one bundle file");
    }
    if (file.empty()) return berth::fail("update verify: expected a bundle file (or - for standard input)");
    TRY(update::init_crypto());
    auto trusted = key_files.empty() ? TRY(update::load_trusted_keys(berth::paths::kUpdateKeys)) : TRY(update::load_key_files(key_files));
    berth::sys::UniqueFd fd;
    if (file != "-") fd = TRY(berth::sys::open(file, O_RDONLY | O_CLOEXEC));
    update::FdSource source(file == "-" ? 0 : fd.get());
    auto header = TRY_CTX(update::verify_bundle(source, trusted), file);
    const auto& m = header.manifest;
    std::printf("%s: a good bundle\n", file.c_str());
    std::printf("  version      %s (updates %s and newer), %s, %s\n", m.version.c_str(), m.min_version.c_str(),
                m.architecture.c_str(), m.compatible.c_str());
    std::printf("  build        %s, created %s\n", m.build_id.c_str(), m.created.c_str());
    std::printf("  signed by    %s (%s)%s\n", update::key_id(header.signer).c_str(), header.signer_source.c_str(),
                m.development_key ? ": a DEVELOPMENT key the build made up, not a release key" : "");
    for (const auto& part : m.parts)
        std::printf("  %-12s %s, sha256 %s\n", part.name.c_str(), mebibytes(part.size).c_str(), update::to_hex(part.sha256).c_str());
    std::printf("  verity root  %s\n", m.verity_root_hash.c_str());
    return 0;
}

}  // namespace

berth::Result<int> update_command(const std::string& socket_path, const std::vector<std::string>& args) {
    (void)socket_path;
    if (args.size() >= 2 && args[1] == "verify") return verify(args);
    return berth::fail("update: expected verify FILE");
}
