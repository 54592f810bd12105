#include "manifest_loading.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "berth/log.hpp"
#include "berth/manifest/codec.hpp"
#include "berth/pid1/init_system.hpp"

namespace berth::pid1 {

template <typename Io> void fields(Io& io, LoadedManifests& l) { io(l.services), io(l.errors), io(l.order_error); }
template <typename Io> void fields(Io& io, ManifestCheck& c) { io(c.manifest), io(c.text), io(c.error); }

LoadedManifests load_manifests_here(const std::vector<std::string>& dirs) {
    auto report = manifest::load_directories(dirs);
    LoadedManifests loaded;
    loaded.errors = std::move(report.errors);
    auto order = manifest::start_order(report.services);
    if (!order) {
        loaded.order_error = order.error().describe();
        return loaded;
    }
    for (const auto& name : *order)
        for (auto& m : report.services)
            if (m.name == name) loaded.services.push_back(std::move(m));
    return loaded;
}

ManifestPreload preload_manifests(const std::vector<std::string>& dirs) {
    return {dirs, start_in_child([dirs] { return manifest::encode(load_manifests_here(dirs)); })};
}

namespace {

Result<LoadedManifests> answer_of(ChildTask& parser) {
    return parser.answer().and_then([](const std::string& answer) { return manifest::decode<LoadedManifests>(answer); });
}

// The whole set is refused: each directory gets one diagnostic that says why.
LoadedManifests unparsable(const std::vector<std::string>& dirs, const Error& why) {
    LoadedManifests none;
    for (const auto& dir : dirs)
        none.errors.push_back({dir, "", dir + ": manifests not loaded: the parsing process failed (" + why.describe() + ")"});
    return none;
}

}  // namespace

LoadedManifests load_manifests(const std::vector<std::string>& dirs, ManifestPreload* preload) {
    if (preload && preload->parser && preload->dirs == dirs) {
        auto loaded = answer_of(*preload->parser);
        if (loaded) return std::move(*loaded);
        log::warning("parsing manifests: the boot's parsing process failed (" + loaded.error().describe() + "); trying once more");
    }
    if (preload && preload->parser) preload->parser->abandon();  // reaped before the loop reaps any child
    auto parser = start_in_child([&dirs] { return manifest::encode(load_manifests_here(dirs)); });
    if (!parser) {
        // No process could start at all (fork failed): the work has to happen here.
        log::warning("parsing manifests in PID 1: " + parser.error().describe());
        return load_manifests_here(dirs);
    }
    auto loaded = answer_of(*parser);
    if (loaded) return std::move(*loaded);
    return unparsable(dirs, loaded.error());
}

Result<std::string> read_client_manifest(const std::string& path) {
    const size_t limit = kMaxAddedManifestBytes;
    auto not_regular = [&](mode_t mode) {
        const char* kind = S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device"
                           : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "not a regular file";
        return fail("'" + path + "' is " + kind + "; a manifest must be a regular file");
    };
    // stat before open: opening some devices has effects of its own (a watchdog starts counting).
    struct stat before{};
    if (::stat(path.c_str(), &before) < 0) return fail_sys("'" + path + "'");
    if (!S_ISREG(before.st_mode)) return not_regular(before.st_mode);
    auto too_big = [&] {
        return fail("'" + path + "' is larger than " + std::to_string(limit) + " bytes; too big for a manifest");
    };
    if (static_cast<size_t>(before.st_size) > limit) return too_big();
    auto fd = TRY(sys::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat opened{};
    if (::fstat(fd.get(), &opened) < 0) return fail_sys("'" + path + "'");
    if (!S_ISREG(opened.st_mode)) return not_regular(opened.st_mode);  // replaced in between
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_sys("read '" + path + "'");
        }
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > limit) return too_big();  // it grew after the stat
    }
    return text;
}

ManifestCheck check_manifest_here(const std::string& text, const std::string& path, const std::string& name_for_path,
                                  const manifest::SpecContext& context) {
    ManifestCheck check;
    if (text.empty()) {
        auto read = read_client_manifest(path);
        if (!read) {
            check.error = read.error().describe();
            return check;
        }
        check.text = std::move(*read);
    } else {
        check.text = text;
    }
    auto m = manifest::parse_manifest(check.text, name_for_path);
    if (!m) check.error = m.error().describe();
    else if (auto spec = manifest::to_container_spec(*m, context); !spec) check.error = spec.error().describe();
    else check.manifest = std::move(*m);
    return check;
}

Result<ChildTask> start_manifest_check(const std::string& text, const std::string& path, const std::string& file_name,
                                       const manifest::SpecContext& context) {
    return start_in_child([&] { return manifest::encode(check_manifest_here(text, path, file_name, context)); },
                          ChildAnswer::Watched);
}

Result<ManifestCheck> decode_manifest_check(const std::string& answer) { return manifest::decode<ManifestCheck>(answer); }

}  // namespace berth::pid1
