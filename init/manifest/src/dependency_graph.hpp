// The graph behind start_order and load_directories: edges from a service to the services
// it starts after (`after` ∪ `requires`), and its cycles.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "berth/manifest/manifest.hpp"

namespace berth::manifest::detail {

// Service → the existing services it starts after, sorted and unique. Edges to services
// not in the list are dropped (a missing `after` only orders; missing `requires` is
// reported by the callers).
using DependencyGraph = std::map<std::string, std::vector<std::string>>;
DependencyGraph build_graph(const std::vector<ServiceManifest>& services);

struct Cycle {
    std::vector<std::string> path;   // "a", "b", "a": a starts after b, b after a
    std::set<std::string> members;   // the whole strongly connected component
};
// One cycle per strongly connected component that has one, each path starting at its
// alphabetically first member; cycles sorted by that member.
std::vector<Cycle> find_cycles(const DependencyGraph& graph);
std::string describe(const Cycle& cycle);  // "dependency cycle: a -> b -> a"

}  // namespace berth::manifest::detail
