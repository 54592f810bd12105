#include "berth/supervisor/services_table.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "berth/supervisor/clock.hpp"

namespace berth::supervisor::control {

using json = nlohmann::json;

namespace {

constexpr std::size_t kColumns = 7;
using Row = std::array<std::string, kColumns>;

std::string text_field(const json& service, const char* key) {
    const auto it = service.find(key);
    if (it == service.end() || it->is_null()) return "-";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

std::string last_exit_text(const json& service) {
    const auto it = service.find("last_exit");
    if (it == service.end() || !it->is_object()) return "-";
    if (it->contains("signal")) return text_field(*it, "signal");
    return text_field(*it, "code");
}

std::string uptime_text(const json& service) {
    const auto it = service.find("uptime_seconds");
    if (it == service.end() || !it->is_number_integer()) return "-";
    return format_uptime(it->get<std::int64_t>());
}

Row row_of(const json& service) {
    std::string health = text_field(service, "health");
    if (health == "none") health = "-";
    return {text_field(service, "name"),  text_field(service, "state"), text_field(service, "pid"),
            uptime_text(service),         text_field(service, "restarts"), health,
            last_exit_text(service)};
}

}  // namespace

std::string format_uptime(std::int64_t seconds) { return format_duration(std::chrono::seconds(seconds)); }

std::string render_services_table(const json& services) {
    const json* list = &services;
    if (services.is_object() && services.contains("services")) list = &services["services"];

    std::vector<Row> rows = {{"NAME", "STATE", "PID", "UPTIME", "RESTARTS", "HEALTH", "LAST-EXIT"}};
    if (list->is_array())
        for (const auto& service : *list)
            if (service.is_object()) rows.push_back(row_of(service));

    std::array<std::size_t, kColumns> widths{};
    for (const auto& row : rows)
        for (std::size_t c = 0; c < kColumns; ++c) widths[c] = std::max(widths[c], row[c].size());

    std::string table;
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < kColumns; ++c) {
            table += row[c];
            if (c + 1 < kColumns) table.append(widths[c] - row[c].size() + 2, ' ');
        }
        table += '\n';
    }
    return table;
}

}  // namespace berth::supervisor::control
