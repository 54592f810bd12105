#include "berth/dependency_cycles.hpp"

#include <algorithm>
#include <deque>

namespace berth {

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

}  // namespace berth
