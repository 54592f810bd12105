// berth-bundle: the image build's tool for update bundles (keys, signing). Not part of the image.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "berth/parse_integer.hpp"
#include "berth/sys.hpp"
#include "berth/update/bundle_builder.hpp"
#include "berth/update/version.hpp"

namespace update = berth::update;

namespace {

int usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: berth-bundle keygen SECRET_FILE PUBLIC_FILE [COMMENT]\n"
                 "       berth-bundle public SECRET_FILE      (its public key file, on standard output)\n"
                 "       berth-bundle create --out FILE --key SECRET_FILE [--key ...] [--development-key]\n"
                 "            --version V --min-version V --build-id ID --architecture A --compatible C\n"
                 "            --created EPOCH --cmdline-file F --verity root.verity\n"
                 "            --root root.slot --kernel vmlinuz --initramfs initramfs.img\n");
    return code;
}

berth::Result<int> keygen(const std::vector<std::string>& args) {
    if (args.size() < 3 || args.size() > 4) return berth::fail("keygen: expected SECRET_FILE PUBLIC_FILE [COMMENT]");
    auto key = update::generate_secret_key();
    // The secret key is written first and only for its owner; an existing one is never replaced.
    TRY(berth::sys::write_file(args[1], update::format_secret_key(key), O_EXCL, 0600));
    TRY(berth::sys::write_file(args[2], update::format_public_key(key.public_key(), args.size() == 4 ? args[3] : "")));
    std::printf("key %s: secret %s, public %s\n", update::key_id(key.public_key()).c_str(), args[1].c_str(), args[2].c_str());
    return 0;
}

berth::Result<int> public_key(const std::vector<std::string>& args) {
    if (args.size() != 2) return berth::fail("public: expected SECRET_FILE");
    auto key = TRY(update::parse_secret_key(TRY(berth::sys::read_file(args[1])), args[1]));
    std::fputs(update::format_public_key(key.public_key(), "").c_str(), stdout);
    return 0;
}

berth::Result<int> create(const std::vector<std::string>& args) {
    std::map<std::string, std::string> opt;
    std::vector<std::string> key_files;
    update::BundleManifest m;
    for (size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--development-key") {
            m.development_key = true;
            continue;
        }
        if (args[i].rfind("--", 0) != 0 || i + 1 >= args.size()) return berth::fail("create: unexpected '" + args[i] + "'");
        std::string name = args[i].substr(2), value = args[i + 1];
        ++i;
        if (name == "key") key_files.push_back(value);
        else opt[name] = value;
    }
    for (const char* need : {"out", "version", "min-version", "build-id", "architecture", "compatible", "created",
                             "cmdline-file", "verity", "root", "kernel", "initramfs"})
        if (!opt.count(need)) return berth::fail(std::string("create: --") + need + " is required");
    if (key_files.empty()) return berth::fail("create: --key is required");
    std::vector<update::SecretKey> keys;
    for (const auto& file : key_files) keys.push_back(TRY(update::parse_secret_key(TRY(berth::sys::read_file(file)), file)));
    auto verity = TRY(update::parse_verity_facts(TRY(berth::sys::read_file(opt["verity"])), opt["verity"]));
    auto cmdline = TRY(berth::sys::read_file(opt["cmdline-file"]));
    while (!cmdline.empty() && (cmdline.back() == '\n' || cmdline.back() == ' ')) cmdline.pop_back();

    auto epoch = berth::parse_integer<std::time_t>(opt["created"], 0, 253402300799);
    if (!epoch) return berth::fail("create: --created needs Unix seconds, not '" + opt["created"] + "'");
    std::time_t created = *epoch;
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&created));
    m.version = opt["version"];
    m.min_version = opt["min-version"];
    m.build_id = opt["build-id"];
    m.architecture = opt["architecture"];
    m.compatible = opt["compatible"];
    m.created = when;
    m.cmdline = cmdline;
    m.verity_root_hash = verity.root_hash;
    m.verity_salt = verity.salt;
    auto written = TRY(update::write_bundle(m, {opt["root"], opt["kernel"], opt["initramfs"]}, keys, opt["out"]));
    std::printf("berth-bundle: %s: version %s, %llu bytes of parts, signed by %s%s\n", opt["out"].c_str(), m.version.c_str(),
                static_cast<unsigned long long>(written.payload_bytes()), update::key_id(keys.front().public_key()).c_str(),
                m.development_key ? " (DEVELOPMENT KEY: no release key was given to the build)" : "");
    return 0;
}

}  // namespace

int berth_bundle_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help") return usage(args.empty() ? 2 : 0);
    if (auto ready = update::init_crypto(); !ready) {
        std::fprintf(stderr, "berth-bundle: %s\n", ready.error().describe().c_str());
        return 1;
    }
    berth::Result<int> result = args[0] == "keygen"   ? keygen(args)
                                : args[0] == "public" ? public_key(args)
                                : args[0] == "create" ? create(args)
                                                      : berth::Result<int>(usage(2));
    if (!result) {
        std::fprintf(stderr, "berth-bundle: %s\n", result.error().describe().c_str());
        return 1;
    }
    return *result;
}
