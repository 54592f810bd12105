#include "berth/update/slot_writer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "berth/parse_integer.hpp"
#include "berth/sys.hpp"
#include "berth/update/boot_entry.hpp"
#include "berth/update/version.hpp"

namespace berth::update {
namespace {

constexpr const char* kEntriesDir = "/loader/entries";
constexpr size_t kWriteChunk = 1 << 20;
// A new file's name until it is complete (sys::write_file_durably's): systemd-boot reads only *.conf.
constexpr std::string_view kIncompleteSuffix = ".new";

uint64_t round_up(uint64_t bytes, uint64_t block) { return block ? (bytes + block - 1) / block * block : bytes; }

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

std::string slot_dir(const SlotLayout& layout) { return layout.esp + "/berth/" + layout.target_slot; }

// A part read whole into memory, its hash checked.
Result<std::string> receive_part(ByteSource& source, const BundlePart& part, const ProgressSink& progress) {
    std::string data;
    data.reserve(part.size);
    TRY(read_part(source, part, [&](std::span<const unsigned char> chunk) -> Result<void> {
        data.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        progress({part.name, data.size(), part.size});
        return {};
    }));
    return data;
}

// Calls the options' step hook, if any.
class Steps {
public:
    Steps(const ApplyOptions& options, const BundleManifest& manifest) : options_(options), manifest_(manifest) {}
    Result<void> reached(std::string_view step) const {
        return options_.at_step ? options_.at_step(step, manifest_) : Result<void>{};
    }

private:
    const ApplyOptions& options_;
    const BundleManifest& manifest_;
};

// Steps 4: the root partition written from `next_chunk` (memory or the stream), flushed, read back.
class RootWriter {
public:
    RootWriter(const SlotLayout& layout, const BundlePart& root, const ProgressSink& progress, const Steps& steps)
        : layout_(layout), root_(root), progress_(progress), steps_(steps) {}

    Result<void> open() {
        fd_ = TRY(sys::open(layout_.target_device, O_WRONLY | O_CLOEXEC));
        return {};
    }
    Result<void> write(std::span<const unsigned char> chunk) {
        TRY_CTX(sys::write_all(fd_.get(), std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size())),
                "write the root to " + layout_.target_device);
        uint64_t before = written_;
        written_ += chunk.size();
        progress_({"write", written_, root_.size});
        if (before == 0) TRY(steps_.reached("root-started"));
        if (before < root_.size / 2 && written_ >= root_.size / 2) TRY(steps_.reached("root-half"));
        if (written_ == root_.size) TRY(steps_.reached("root-written"));
        return {};
    }
    // Flush, then read what the disk holds (not the page cache's copy) and compare.
    Result<void> finish() {
        TRY(sys::fsync(fd_.get(), layout_.target_device));
        ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_DONTNEED);
        fd_.reset();
        auto in = TRY(sys::open(layout_.target_device, O_RDONLY | O_CLOEXEC));
        ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_DONTNEED);
        std::string buffer(kWriteChunk, '\0');
        Sha256Stream hash;
        uint64_t done = 0;
        while (done < root_.size) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), root_.size - done));
            ssize_t n = ::pread(in.get(), buffer.data(), want, static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail_sys("read back " + layout_.target_device);
            if (n == 0) return fail(layout_.target_device + " ended after " + std::to_string(done) + " bytes on read-back");
            hash.update(std::string_view(buffer).substr(0, static_cast<size_t>(n)));
            done += static_cast<uint64_t>(n);
            progress_({"verify", done, root_.size});
        }
        if (hash.finish() != root_.sha256)
            return fail("the root read back from " + layout_.target_device + " is not what was written (a failing disk?)");
        return {};
    }

private:
    const SlotLayout& layout_;
    const BundlePart& root_;
    const ProgressSink& progress_;
    const Steps& steps_;
    sys::UniqueFd fd_;
    uint64_t written_ = 0;
};

// Step 3: the target slot stops being bootable before any of its bytes change.
Result<void> remove_target_entries(const SlotLayout& layout) {
    std::string entries = layout.esp + kEntriesDir;
    bool removed = false;
    for (const auto& name : sys::list_directory(entries)) {
        if (!is_slot_entry(name, layout.target_slot)) continue;
        TRY(sys::unlink(entries + "/" + name));
        removed = true;
    }
    if (removed) TRY(sys::fsync_path(entries));
    // Its kernel and initramfs go too, so that the new ones fit where the ESP is tight.
    std::string dir = slot_dir(layout);
    for (const auto& name : sys::list_directory(dir)) TRY(sys::unlink(dir + "/" + name));
    if (sys::exists(dir)) TRY(sys::fsync_path(dir));
    return {};
}

// A file under a temporary name, synced, renamed into place (sys::write_file_durably, with the
// steps in between named).
Result<void> install_file(const std::string& dir, const std::string& name, std::string_view content, const Steps& steps,
                          std::string_view synced_step, std::string_view renamed_step = {}) {
    std::string path = dir + "/" + name, temporary = path + std::string(kIncompleteSuffix);
    TRY(sys::write_file_synced(temporary, content));
    TRY(steps.reached(synced_step));
    TRY(sys::rename(temporary, path));
    if (!renamed_step.empty()) TRY(steps.reached(renamed_step));
    // As sys::rename_durably: on FAT the file's new directory entry gets its size only from the file's own fsync.
    TRY(sys::fsync_path(path));
    return sys::fsync_path(dir);
}

// Step 5.
Result<void> install_boot_files(const SlotLayout& layout, const std::string& kernel, const std::string& initramfs,
                                const Steps& steps) {
    std::string dir = slot_dir(layout);
    TRY(sys::mkdir_p(dir));
    TRY(install_file(dir, "vmlinuz", kernel, steps, "kernel-synced"));
    TRY(install_file(dir, "initramfs.img", initramfs, steps, "initramfs-synced"));
    return sys::fsync_path(layout.esp + "/berth");
}

// Step 6.
Result<std::string> install_entry(const SlotLayout& layout, const BundleManifest& manifest, int tries, const Steps& steps) {
    std::string entries = layout.esp + kEntriesDir;
    TRY(sys::mkdir_p(entries));
    std::string name = counting_entry_name(layout.target_slot, tries);
    TRY(install_file(entries, name, entry_text(manifest, layout.target_slot), steps, "entry-synced", "entry-renamed"));
    return name;
}

}  // namespace

bool is_apply_step(std::string_view step) {
    return std::find(kApplySteps.begin(), kApplySteps.end(), step) != kApplySteps.end();
}

Result<void> check_applicable(const BundleManifest& m, const HostFacts& host, const ApplyOptions& options) {
    if (m.architecture != host.architecture)
        return fail("the bundle is for " + m.architecture + ", this host is " + host.architecture);
    if (m.compatible != host.compatible)
        return fail("the bundle is for the image family '" + m.compatible + "', this host is '" + host.compatible + "'");
    if (compare_versions(host.version, m.min_version) < 0)
        return fail("version " + m.version + " updates " + m.min_version + " and newer; this host runs " + host.version +
                    " (update to a version in between first)");
    if (compare_versions(m.version, host.version) <= 0 && !options.allow_downgrade)
        return fail("version " + m.version + " is not newer than the running " + host.version +
                    " (--allow-downgrade to install it anyway)");
    if (std::find(host.failed_versions.begin(), host.failed_versions.end(), m.version) != host.failed_versions.end() &&
        !options.force)
        return fail("version " + m.version + " already failed to boot on this host (--force to try it again)");
    return {};
}

Result<void> check_space(const BundleManifest& m, const SpaceFacts& space) {
    const auto& root = m.part(PartIndex::Root);
    if (root.size > space.target_device_bytes)
        return fail("the root is " + std::to_string(root.size) + " bytes, its slot only " + std::to_string(space.target_device_bytes) +
                    " (" + mib(space.target_device_bytes) + "): this host's disk layout cannot take this version");
    uint64_t need = round_up(m.part(PartIndex::Kernel).size, space.esp_block_size) +
                    round_up(m.part(PartIndex::Initramfs).size, space.esp_block_size) + 2 * space.esp_block_size;
    uint64_t have = space.esp_free_bytes + space.replaced_esp_bytes;
    if (need > have)
        return fail("kernel and initramfs need " + mib(need) + " on the ESP, which has " + mib(have) +
                    " free (counting the target slot's files it replaces)");
    return {};
}

std::string counting_entry_name(std::string_view slot, int tries) {
    return entry_file_name({"berth-" + std::string(slot), tries, std::nullopt});
}

std::string entry_text(const BundleManifest& m, std::string_view slot) {
    std::string upper(slot);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
    std::string s(slot);
    return "title      Berth " + m.version + " (slot " + upper + ")\n" +
           "version    " + m.version + "\n" +
           "sort-key   berth\n" +
           "linux      /berth/" + s + "/vmlinuz\n" +
           "initrd     /berth/" + s + "/initramfs.img\n" +
           "options    " + m.cmdline_for(slot) + "\n";
}

bool is_slot_entry(std::string_view file, std::string_view slot) {
    if (file.ends_with(kIncompleteSuffix)) file.remove_suffix(kIncompleteSuffix.size());
    auto name = parse_entry_name(file);
    return name && slot_of_entry(name->base) == slot;
}

Result<ApplyReport> apply_bundle(ByteSource& source, const std::vector<TrustedKey>& trusted, const SlotLayout& layout,
                                 const HostFacts& host, const ApplyOptions& options, const ProgressSink& progress) {
    if (layout.target_slot.empty() || layout.target_slot == layout.booted_slot)
        return fail("the target slot must be the one not booted (booted: " + layout.booted_slot + ")");
    // 1. Everything that can be checked before the parts.
    auto header = TRY(read_verified_header(source, trusted));
    const auto& m = header.manifest;
    TRY(check_applicable(m, host, options));
    SpaceFacts space;
    {
        auto device = TRY(sys::open(layout.target_device, O_RDONLY | O_CLOEXEC));
        space.target_device_bytes = TRY(sys::device_size(device.get(), layout.target_device));
    }
    auto esp_free = TRY(sys::free_space(layout.esp));
    space.esp_free_bytes = esp_free.bytes;
    space.esp_block_size = esp_free.block_size;
    // Everything in the slot's directory goes before the new files come: also what an apply cut
    // off by a power loss left there (vmlinuz.new).
    for (const auto& name : sys::list_directory(slot_dir(layout)))
        space.replaced_esp_bytes += round_up(sys::file_size(slot_dir(layout) + "/" + name), esp_free.block_size);
    TRY(check_space(m, space));

    ApplyReport report{m, key_id(header.signer), "", false};
    Steps steps(options, m);
    RootWriter root(layout, m.part(PartIndex::Root), progress, steps);
    auto clear_target = [&]() -> Result<void> {
        TRY(steps.reached("clearing-target"));
        TRY_CTX(remove_target_entries(layout), "remove slot " + layout.target_slot + "'s boot entry");
        progress({"target-cleared", 0, 0});
        return steps.reached("target-cleared");
    };
    std::string kernel, initramfs;
    if (m.payload_bytes() <= options.memory_budget) {
        // 2. Every part received and checked before the disk is touched.
        report.staged = true;
        std::string root_bytes = TRY(receive_part(source, m.part(PartIndex::Root), progress));
        kernel = TRY(receive_part(source, m.part(PartIndex::Kernel), progress));
        initramfs = TRY(receive_part(source, m.part(PartIndex::Initramfs), progress));
        TRY(expect_end(source));
        TRY(clear_target());
        TRY(root.open());
        auto bytes = std::span(reinterpret_cast<const unsigned char*>(root_bytes.data()), root_bytes.size());
        for (size_t at = 0; at < bytes.size(); at += kWriteChunk) TRY(root.write(bytes.subspan(at, std::min(kWriteChunk, bytes.size() - at))));
    } else {
        // Too big to stage: the root goes to the disk as it arrives. A bad root is then found at its
        // end, with the slot already without an entry: unbootable, never half-trusted.
        TRY(clear_target());
        TRY(root.open());
        TRY(read_part(source, m.part(PartIndex::Root), [&](std::span<const unsigned char> chunk) { return root.write(chunk); }));
        kernel = TRY(receive_part(source, m.part(PartIndex::Kernel), progress));
        initramfs = TRY(receive_part(source, m.part(PartIndex::Initramfs), progress));
        TRY(expect_end(source));
    }
    TRY(root.finish());
    TRY(steps.reached("root-verified"));
    TRY_CTX(install_boot_files(layout, kernel, initramfs, steps), "install kernel and initramfs on the ESP");
    report.entry = TRY_CTX(install_entry(layout, m, options.tries, steps), "install the boot entry");
    TRY(steps.reached("installed"));
    progress({"done", m.payload_bytes(), m.payload_bytes()});
    return report;
}

}  // namespace berth::update
