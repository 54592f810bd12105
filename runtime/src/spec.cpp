#include "berth/runtime/spec.hpp"

#include <sched.h>

namespace berth::runtime {

const Namespace* ContainerSpec::find_namespace(NamespaceType type) const {
    for (const auto& ns : namespaces)
        if (ns.type == type) return &ns;
    return nullptr;
}

bool ContainerSpec::has_namespace(NamespaceType type) const { return find_namespace(type) != nullptr; }

const char* namespace_type_name(NamespaceType type) {
    switch (type) {
        case NamespaceType::Pid: return "pid";
        case NamespaceType::Network: return "network";
        case NamespaceType::Mount: return "mount";
        case NamespaceType::Ipc: return "ipc";
        case NamespaceType::Uts: return "uts";
        case NamespaceType::User: return "user";
        case NamespaceType::Cgroup: return "cgroup";
        case NamespaceType::Time: return "time";
    }
    return "unknown";
}

int namespace_clone_flag(NamespaceType type) {
    switch (type) {
        case NamespaceType::Pid: return CLONE_NEWPID;
        case NamespaceType::Network: return CLONE_NEWNET;
        case NamespaceType::Mount: return CLONE_NEWNS;
        case NamespaceType::Ipc: return CLONE_NEWIPC;
        case NamespaceType::Uts: return CLONE_NEWUTS;
        case NamespaceType::User: return CLONE_NEWUSER;
        case NamespaceType::Cgroup: return CLONE_NEWCGROUP;
        case NamespaceType::Time: return CLONE_NEWTIME;
    }
    return 0;
}

}  // namespace berth::runtime
