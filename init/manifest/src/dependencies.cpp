#include <algorithm>

#include "berth/manifest/manifest.hpp"
#include "dependency_graph.hpp"

namespace berth::manifest {
namespace detail {

DependencyGraph build_graph(const std::vector<ServiceManifest>& services) {
    DependencyGraph graph;
    for (const auto& s : services) graph[s.name];
    for (const auto& s : services) {
        auto& deps = graph[s.name];
        for (const auto* list : {&s.after, &s.required_services})
            for (const auto& dep : *list)
                if (graph.count(dep)) deps.push_back(dep);
        std::sort(deps.begin(), deps.end());
        deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    }
    return graph;
}

}  // namespace detail

Result<std::vector<std::string>> start_order(const std::vector<ServiceManifest>& services) {
    std::vector<const ServiceManifest*> by_name;
    for (const auto& s : services) by_name.push_back(&s);
    std::sort(by_name.begin(), by_name.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (size_t i = 1; i < by_name.size(); ++i)
        if (by_name[i]->name == by_name[i - 1]->name)
            return fail("service '" + by_name[i]->name + "' is defined twice (" + by_name[i - 1]->file_path +
                        ", " + by_name[i]->file_path + ")");

    detail::DependencyGraph graph = detail::build_graph(services);
    for (const auto* s : by_name)
        for (const auto& required : s->required_services)
            if (!graph.count(required))
                return fail("service '" + s->name + "' requires '" + required + "', which does not exist");
    if (auto cycles = detail::find_cycles(graph); !cycles.empty()) return fail(detail::describe(cycles.front()));

    std::map<std::string, std::vector<std::string>> dependents;
    for (const auto& [name, deps] : graph)
        for (const auto& dep : deps) dependents[dep].push_back(name);
    // Kahn's algorithm; `ready` is ordered by `rank` (name first, then what it is keyed on).
    auto kahn = [&](const std::map<std::string, size_t>& rank) {
        std::map<std::string, size_t> waiting_on;
        for (const auto& [name, deps] : graph) waiting_on[name] = deps.size();
        std::set<std::pair<size_t, std::string>> ready;
        for (const auto& [name, count] : waiting_on)
            if (count == 0) ready.insert({rank.count(name) ? rank.at(name) : 0, name});
        std::vector<std::string> order;
        while (!ready.empty()) {
            std::string next = ready.begin()->second;
            ready.erase(ready.begin());
            order.push_back(next);
            for (const auto& dependent : dependents[next])
                if (--waiting_on[dependent] == 0) ready.insert({rank.count(dependent) ? rank.at(dependent) : 0, dependent});
        }
        return order;
    };
    // Among peers, the one with the longest chain of services waiting for it goes first (it is on
    // the boot's critical path: netd before logd, as ntpd waits for netd), then alphabetically.
    // Chain lengths come from any topological order, walked from its end.
    auto plain = kahn({});
    std::map<std::string, size_t> chain;
    for (auto it = plain.rbegin(); it != plain.rend(); ++it)
        for (const auto& dependent : dependents[*it]) chain[*it] = std::max(chain[*it], chain[dependent] + 1);
    std::map<std::string, size_t> rank;
    size_t longest = 0;
    for (const auto& [name, length] : chain) longest = std::max(longest, length);
    for (const auto& [name, deps] : graph) rank[name] = longest - (chain.count(name) ? chain[name] : 0);
    return kahn(rank);
}

}  // namespace berth::manifest
