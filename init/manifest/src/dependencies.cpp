#include <algorithm>
#include <deque>

#include "berth/manifest/manifest.hpp"
#include "dependency_graph.hpp"

namespace berth::manifest {
namespace detail {
namespace {

// Tarjan's algorithm, iterative so that a long chain of services cannot exhaust the stack.
std::vector<std::vector<std::string>> strongly_connected(const DependencyGraph& graph) {
    struct NodeState {
        int index = -1, low = 0;
        bool on_stack = false;
    };
    std::map<std::string, NodeState> state;
    std::vector<std::string> stack;
    std::vector<std::vector<std::string>> components;
    int next_index = 0;
    for (const auto& [root, unused] : graph) {
        (void)unused;
        if (state[root].index >= 0) continue;
        std::vector<std::pair<std::string, size_t>> work{{root, 0}};  // node, next edge to visit
        while (!work.empty()) {
            auto& [node, edge] = work.back();
            NodeState& s = state[node];
            if (edge == 0 && s.index < 0) {
                s.index = s.low = next_index++;
                s.on_stack = true;
                stack.push_back(node);
            }
            const auto& deps = graph.at(node);
            if (edge < deps.size()) {
                const std::string& next = deps[edge++];
                NodeState& n = state[next];
                if (n.index < 0) {
                    work.emplace_back(next, 0);
                } else if (n.on_stack) {
                    state[node].low = std::min(state[node].low, n.index);
                }
                continue;
            }
            if (s.low == s.index) {
                std::vector<std::string> component;
                std::string member;
                do {
                    member = stack.back();
                    stack.pop_back();
                    state[member].on_stack = false;
                    component.push_back(member);
                } while (member != node);
                components.push_back(std::move(component));
            }
            std::string finished = node;
            work.pop_back();
            if (!work.empty()) {
                NodeState& parent = state[work.back().first];
                parent.low = std::min(parent.low, state[finished].low);
            }
        }
    }
    return components;
}

// Shortest way from `start` back to itself inside the component, alphabetical on ties.
std::vector<std::string> cycle_through(const DependencyGraph& graph, const std::set<std::string>& members,
                                       const std::string& start) {
    std::map<std::string, std::string> parent;
    std::deque<std::string> queue{start};
    std::set<std::string> seen{start};
    while (!queue.empty()) {
        std::string node = queue.front();
        queue.pop_front();
        for (const std::string& next : graph.at(node)) {
            if (!members.count(next)) continue;
            if (next == start) {
                std::vector<std::string> path{start};
                for (std::string at = node; at != start; at = parent[at]) path.insert(path.begin() + 1, at);
                path.push_back(start);
                return path;
            }
            if (seen.insert(next).second) {
                parent[next] = node;
                queue.push_back(next);
            }
        }
    }
    return {start, start};  // unreachable for a real component
}

}  // namespace

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

std::vector<Cycle> find_cycles(const DependencyGraph& graph) {
    std::vector<Cycle> cycles;
    for (auto& component : strongly_connected(graph)) {
        std::set<std::string> members(component.begin(), component.end());
        const std::string& first = *members.begin();
        const auto& own = graph.at(first);
        bool self_loop = std::find(own.begin(), own.end(), first) != own.end();
        if (members.size() < 2 && !self_loop) continue;
        cycles.push_back(Cycle{cycle_through(graph, members, first), members});
    }
    std::sort(cycles.begin(), cycles.end(),
              [](const Cycle& a, const Cycle& b) { return *a.members.begin() < *b.members.begin(); });
    return cycles;
}

std::string describe(const Cycle& cycle) {
    std::string text = "dependency cycle: ";
    for (size_t i = 0; i < cycle.path.size(); ++i) text += (i ? " -> " : "") + cycle.path[i];
    return text;
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
