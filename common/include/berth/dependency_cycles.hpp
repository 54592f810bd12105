// Cycles in "starts after" graphs: the one check shared by the manifest loader (whole
// directories, offline) and the supervisor (services added at run time).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace berth {

// Service → the services it starts after, sorted and unique, each of them a key too.
using DependencyGraph = std::map<std::string, std::vector<std::string>>;

struct Cycle {
    std::vector<std::string> path;   // "a", "b", "a": a starts after b, b after a
    std::set<std::string> members;   // the whole strongly connected component
};

// One cycle per strongly connected component that has one, each path starting at its
// alphabetically first member; cycles sorted by that member. Iterative: a long chain of
// services cannot exhaust the stack.
std::vector<Cycle> find_cycles(const DependencyGraph& graph);
std::string describe(const Cycle& cycle);  // "dependency cycle: a -> b -> a"

}  // namespace berth
