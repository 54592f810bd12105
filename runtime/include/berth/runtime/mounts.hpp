// The container's filesystem: mount option parsing (pure), and the steps the
// container's init runs inside its new mount namespace, in order.
#pragma once

#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime::mounts {

struct MountFlags {
    unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ...
    unsigned long propagation = 0;  // MS_PRIVATE | MS_REC, ...
    bool bind = false;
    std::string data;               // options the filesystem interprets ("mode=755,size=64k")
};

// Errors name the option: "unknown mount option 'rox'" is never raised: unknown options
// go to `data` for the filesystem, as mount(8) does.
MountFlags parse_options(const std::vector<std::string>& options);
// "rprivate" → MS_PRIVATE|MS_REC; errors on an unknown name.
Result<unsigned long> parse_propagation(const std::string& name);

// Resolves `path` inside `root`, following symlinks as if `root` were "/", so that a
// symlink in the image can never point a mount outside of it.
std::string secure_join(const std::string& root, const std::string& path);

// Before pivot_root: propagation, the rootfs bind mount, config mounts in order,
// /dev nodes and symlinks.
Result<void> prepare_rootfs(const ContainerSpec& spec);
// Switches the root to spec.root_path (pivot_root, or chroot without a mount namespace).
Result<void> enter_rootfs(const ContainerSpec& spec);
// After the switch: masked paths, readonly paths, read-only root.
Result<void> finish_rootfs(const ContainerSpec& spec);

}  // namespace berth::runtime::mounts
