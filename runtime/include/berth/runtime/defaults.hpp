// The default isolation Berth gives a container: Docker's defaults (14 capabilities,
// masked and readonly paths, the default seccomp allowlist), plus no_new_privs and
// private pid, mount, uts, ipc, network and cgroup namespaces. `berth spec` writes it;
// berth-init starts every host service from it.
#pragma once

#include <string>

#include "berth/runtime/spec.hpp"

namespace berth::runtime {

ContainerSpec default_spec(const std::string& root_path = "rootfs");

// Re-derives the seccomp profile after a caller changed process capabilities,
// so that e.g. CAP_SYS_ADMIN also unlocks mount(2) as in Docker.
void refresh_default_seccomp(ContainerSpec& spec);

}  // namespace berth::runtime
