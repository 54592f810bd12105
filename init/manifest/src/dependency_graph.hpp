// The graph behind start_order and load_directories: edges from a service to the services
// it starts after (`after` ∪ `requires`), and its cycles.
#pragma once

#include <vector>

#include "berth/dependency_cycles.hpp"
#include "berth/manifest/manifest.hpp"

namespace berth::manifest::detail {

// Service → the existing services it starts after, sorted and unique. Edges to services
// not in the list are dropped (a missing `after` only orders; missing `requires` is
// reported by the callers).
using ::berth::DependencyGraph;
DependencyGraph build_graph(const std::vector<ServiceManifest>& services);

// The cycle check itself is berth/dependency_cycles.hpp, shared with the supervisor.
using ::berth::Cycle;
using ::berth::describe;
using ::berth::find_cycles;

}  // namespace berth::manifest::detail
