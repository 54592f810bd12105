#include "berth/runtime/spec.hpp"

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

}  // namespace berth::runtime
