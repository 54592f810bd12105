#include "berth/supervisor/control_protocol.hpp"

#include <algorithm>
#include <map>

#include "berth/signals.hpp"
#include "berth/supervisor/service_config.hpp"
#include "berth/supervisor/wall_time.hpp"

namespace berth::supervisor::control {

using json = nlohmann::json;

namespace {

constexpr const char* kCommandList = "status, services, logs, start, stop, restart, add, remove, kill, reboot, poweroff, update";

// Fields each command accepts besides "cmd".
const std::map<std::string, std::vector<std::string>, std::less<>>& command_fields() {
    static const std::map<std::string, std::vector<std::string>, std::less<>> fields = {
        {"status", {}},
        {"services", {}},
        {"logs", {"service", "lines", "since", "follow"}},
        {"start", {"service"}},
        {"stop", {"service"}},
        {"restart", {"service"}},
        {"add", {"manifest_path", "manifest", "name"}},
        {"remove", {"service"}},
        {"kill", {"service", "signal"}},
        {"reboot", {}},
        {"poweroff", {}},
        {"update", {"action", "allow_downgrade", "force", "stream", "reboot", "pause_at"}},
    };
    return fields;
}

tl::unexpected<Error> field_error(std::string_view field, std::string_view problem) {
    return fail("request." + std::string(field) + ": " + std::string(problem));
}

// The text dumped on the wire: service output may hold invalid UTF-8, which must not throw.
std::string dump_line(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

// The first byte (0-based) where brackets and braces outside strings nest deeper than
// kMaxNestingDepth. Requests and responses are shallow; refusing depth before parsing keeps the
// parser's stack, and the recursion in dumping and destroying the value, small for any line.
std::optional<std::size_t> too_deep_at(std::string_view line) {
    std::size_t depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxNestingDepth) return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::nullopt;
}

// "[json.exception.out_of_range.406] number overflow parsing '1e999'" → the text after the tag.
std::string_view json_error_text(const json::exception& error) {
    std::string_view text = error.what();
    if (auto tag_end = text.find("] "); text.starts_with("[json.exception.") && tag_end != std::string_view::npos)
        text.remove_prefix(tag_end + 2);
    return text;
}

Result<json> parse_json_line(std::string_view line, const char* what) {
    // One line: its newline (and a CR before it) is not part of the size.
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > kMaxLineBytes)
        return fail(std::string(what) + ": longer than " + std::to_string(kMaxLineBytes) + " bytes");
    if (line.find_first_not_of(" \t") == std::string_view::npos) return fail(std::string(what) + ": empty line");
    if (auto at = too_deep_at(line))
        return fail(std::string(what) + ": nested deeper than " + std::to_string(kMaxNestingDepth) + " levels at byte " +
                    std::to_string(*at + 1));
    // The one call that parses: every nlohmann exception becomes an error here.
    try {
        return json::parse(line);
    } catch (const json::parse_error& error) {
        return fail(std::string(what) + ": invalid JSON at byte " + std::to_string(error.byte));
    } catch (const json::exception& error) {
        // A number beyond a double (1e999) is out_of_range.406, without a position: find its text.
        std::string text(json_error_text(error));
        std::string where;
        if (auto open = text.find('\''), close = text.rfind('\''); open != std::string::npos && close > open)
            if (auto at = line.find(std::string_view(text).substr(open + 1, close - open - 1)); at != std::string_view::npos)
                where = " at byte " + std::to_string(at + 1);
        return fail(std::string(what) + ": invalid JSON" + where + ": " + text);
    }
}

Result<std::string> service_name_field(const json& request, const char* field) {
    const auto it = request.find(field);
    if (it == request.end()) return field_error(field, "missing");
    if (!it->is_string()) return field_error(field, "expected a string");
    std::string name = it->get<std::string>();
    if (!is_valid_service_name(name))
        return field_error(field, "'" + name + "' is not a service name ([a-z0-9][a-z0-9-]*, at most 63 characters)");
    return name;
}

Result<WallTime> since_field(const json& value) {
    // A JSON number is read back through its text, so both forms share one range check.
    const bool number = value.is_number_unsigned() || (value.is_number_float() && value.get<double>() >= 0);
    if (!number && !value.is_string()) return field_error("since", "expected an RFC 3339 time or unix seconds");
    const std::string text = number ? value.dump() : value.get<std::string>();
    const bool numeric = !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
    auto parsed = numeric ? parse_unix_seconds(text) : parse_rfc3339(text);
    if (!parsed) return field_error("since", "'" + text + "' is not an RFC 3339 time or unix seconds");
    return *parsed;
}

Result<Request> parse_logs(const json& request) {
    LogsRequest logs;
    logs.service = TRY(service_name_field(request, "service"));
    if (auto it = request.find("lines"); it != request.end()) {
        if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0)
            return field_error("lines", "expected a positive integer");
        logs.lines = static_cast<std::size_t>(it->get<std::uint64_t>());
    }
    if (auto it = request.find("since"); it != request.end()) logs.since = TRY(since_field(*it));
    if (auto it = request.find("follow"); it != request.end()) {
        if (!it->is_boolean()) return field_error("follow", "expected true or false");
        logs.follow = it->get<bool>();
    }
    return logs;
}

Result<Request> parse_add(const json& request) {
    const bool has_path = request.contains("manifest_path");
    const bool has_manifest = request.contains("manifest");
    if (has_path && has_manifest) return fail("request: give either manifest_path or manifest, not both");
    if (!has_path && !has_manifest) return field_error("manifest_path", "missing (or give manifest and name)");
    AddRequest add;
    if (has_path) {
        const json& path = request["manifest_path"];
        if (!path.is_string() || path.get<std::string>().empty() || path.get<std::string>().front() != '/')
            return field_error("manifest_path", "expected an absolute path");
        if (request.contains("name")) return field_error("name", "only allowed with manifest");
        add.manifest_path = path.get<std::string>();
        return add;
    }
    const json& manifest = request["manifest"];
    if (!manifest.is_string() || manifest.get<std::string>().empty())
        return field_error("manifest", "expected a non-empty string (TOML text)");
    if (!request.contains("name")) return field_error("name", "missing (required with manifest)");
    add.manifest = manifest.get<std::string>();
    add.name = TRY(service_name_field(request, "name"));
    return add;
}

template <typename ServiceRequest>
Result<Request> parse_service_request(const json& request) {
    return ServiceRequest{TRY(service_name_field(request, "service"))};
}

struct ToJson {
    json operator()(const StatusRequest&) const { return {{"cmd", "status"}}; }
    json operator()(const ServicesRequest&) const { return {{"cmd", "services"}}; }
    json operator()(const LogsRequest& r) const {
        json j = {{"cmd", "logs"}, {"service", r.service}};
        if (r.lines) j["lines"] = *r.lines;
        if (r.since) j["since"] = format_rfc3339(*r.since);
        if (r.follow) j["follow"] = true;
        return j;
    }
    json operator()(const StartRequest& r) const { return {{"cmd", "start"}, {"service", r.service}}; }
    json operator()(const StopRequest& r) const { return {{"cmd", "stop"}, {"service", r.service}}; }
    json operator()(const RestartRequest& r) const { return {{"cmd", "restart"}, {"service", r.service}}; }
    json operator()(const AddRequest& r) const {
        if (!r.manifest_path.empty()) return {{"cmd", "add"}, {"manifest_path", r.manifest_path}};
        return {{"cmd", "add"}, {"manifest", r.manifest}, {"name", r.name}};
    }
    json operator()(const RemoveRequest& r) const { return {{"cmd", "remove"}, {"service", r.service}}; }
    json operator()(const KillRequest& r) const { return {{"cmd", "kill"}, {"service", r.service}, {"signal", r.signal}}; }
    json operator()(const RebootRequest&) const { return {{"cmd", "reboot"}}; }
    json operator()(const PoweroffRequest&) const { return {{"cmd", "poweroff"}}; }
    json operator()(const UpdateRequest& r) const {
        json j = {{"cmd", "update"}, {"action", r.action}};
        for (const auto& [name, set] : {std::pair{"allow_downgrade", r.allow_downgrade}, {"force", r.force}, {"stream", r.stream}, {"reboot", r.reboot}})
            if (set) j[name] = true;
        if (!r.pause_at.empty()) j["pause_at"] = r.pause_at;
        return j;
    }
};

Result<Request> parse_update(const json& request) {
    UpdateRequest update;
    auto action = request.find("action");
    if (action == request.end() || !action->is_string()) return field_error("action", "expected \"apply\", \"status\" or \"rollback\"");
    update.action = action->get<std::string>();
    if (update.action != "apply" && update.action != "status" && update.action != "rollback")
        return field_error("action", "'" + update.action.substr(0, 40) + "' is not apply, status or rollback");
    for (auto [name, flag] : {std::pair{"allow_downgrade", &update.allow_downgrade}, {"force", &update.force},
                              {"stream", &update.stream}, {"reboot", &update.reboot}}) {
        auto it = request.find(name);
        if (it == request.end()) continue;
        if (!it->is_boolean()) return field_error(name, "expected true or false");
        if (update.action != "apply") return field_error(name, "only for action \"apply\"");
        *flag = it->get<bool>();
    }
    if (auto it = request.find("pause_at"); it != request.end()) {
        if (!it->is_string() || it->get_ref<const std::string&>().empty()) return field_error("pause_at", "expected the name of a step");
        if (update.action != "apply") return field_error("pause_at", "only for action \"apply\"");
        // The job checks the name against its steps: the protocol does not know them.
        update.pause_at = it->get<std::string>().substr(0, 64);
    }
    return update;
}

}  // namespace

Result<Request> parse_request(std::string_view line) {
    const json request = TRY(parse_json_line(line, "request"));
    if (!request.is_object()) return fail("request: expected a JSON object");
    const auto cmd_it = request.find("cmd");
    if (cmd_it == request.end()) return field_error("cmd", std::string("missing (one of: ") + kCommandList + ")");
    if (!cmd_it->is_string()) return field_error("cmd", "expected a string");
    const std::string cmd = cmd_it->get<std::string>();
    const auto spec = command_fields().find(cmd);
    if (spec == command_fields().end())
        return field_error("cmd", "unknown command '" + cmd + "' (one of: " + kCommandList + ")");
    for (const auto& [field, value] : request.items()) {
        if (field == "cmd") continue;
        if (std::find(spec->second.begin(), spec->second.end(), field) == spec->second.end())
            return field_error(field, "unknown field for cmd '" + cmd + "'");
    }

    if (cmd == "status") return StatusRequest{};
    if (cmd == "services") return ServicesRequest{};
    if (cmd == "logs") return parse_logs(request);
    if (cmd == "start") return parse_service_request<StartRequest>(request);
    if (cmd == "stop") return parse_service_request<StopRequest>(request);
    if (cmd == "restart") return parse_service_request<RestartRequest>(request);
    if (cmd == "add") return parse_add(request);
    if (cmd == "remove") return parse_service_request<RemoveRequest>(request);
    if (cmd == "kill") {
        KillRequest kill{TRY(service_name_field(request, "service"))};
        if (auto signal = request.find("signal"); signal != request.end()) {
            if (!signal->is_string() || signal->get<std::string>().empty())
                return field_error("signal", "expected a signal name or number as a string (\"KILL\", \"9\")");
            kill.signal = signal->get<std::string>();
            if (auto known = parse_signal(kill.signal); !known) return field_error("signal", known.error().message);
        }
        return kill;
    }
    if (cmd == "reboot") return RebootRequest{};
    if (cmd == "update") return parse_update(request);
    return PoweroffRequest{};
}

std::string request_line(const Request& request) { return dump_line(std::visit(ToJson{}, request)); }

std::string ok_response(const json& payload) {
    json response = json::object();
    response["ok"] = true;
    if (payload.is_object()) {
        for (const auto& [key, value] : payload.items())
            if (key != "ok") response[key] = value;
    } else if (!payload.is_null()) {
        response["result"] = payload;
    }
    return dump_line(response);
}

std::string error_response(std::string_view message) {
    return dump_line(json{{"ok", false}, {"error", std::string(message)}});
}

Result<json> parse_response(std::string_view line) {
    json response = TRY(parse_json_line(line, "response"));
    if (!response.is_object() || !response.contains("ok") || !response["ok"].is_boolean())
        return fail("response: expected a JSON object with a boolean \"ok\"");
    if (response["ok"].get<bool>()) return response;
    if (response.contains("error") && response["error"].is_string()) return fail(response["error"].get<std::string>());
    return fail("the server reported an error without a message");
}

json service_json(const ServiceStatus& status) {
    json service = {
        {"name", status.name},
        {"state", service_state_name(status.state)},
        {"pid", status.pid != 0 ? json(status.pid) : json(nullptr)},
        {"uptime_seconds", nullptr},
        {"restarts", status.restarts},
        {"health", health_name(status.health)},
        {"last_exit", nullptr},
        {"last_error", status.last_error.empty() ? json(nullptr) : json(status.last_error)},
        {"oneshot", status.oneshot},
        {"critical", status.critical},
    };
    if (status.uptime) service["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(*status.uptime).count();
    if (status.last_exit) {
        if (status.last_exit->kind == ExitStatus::Kind::Signaled)
            service["last_exit"] = {{"signal", signal_name(status.last_exit->value)}};
        else
            service["last_exit"] = {{"code", status.last_exit->value}};
    }
    return service;
}

json services_payload(const std::vector<ServiceStatus>& statuses) {
    json services = json::array();
    for (const auto& status : statuses) services.push_back(service_json(status));
    return {{"services", std::move(services)}};
}

json status_payload(const std::vector<ServiceStatus>& statuses, bool shutting_down) {
    json counts = json::object();
    json failed = json::array();
    bool degraded = false, starting = false;
    for (const auto& status : statuses) {
        const std::string state = service_state_name(status.state);
        counts[state] = counts.value(state, 0) + 1;
        switch (status.state) {
            case ServiceState::Failed:
                failed.push_back(status.name);
                degraded = true;
                break;
            case ServiceState::Backoff:
                degraded = true;
                break;
            case ServiceState::Waiting:
            case ServiceState::Starting:
            case ServiceState::Running:
                starting = true;
                break;
            default:
                break;
        }
    }
    const char* overall = shutting_down ? "shutting-down" : degraded ? "degraded" : starting ? "starting" : "running";
    return {{"state", overall}, {"services", statuses.size()}, {"counts", std::move(counts)}, {"failed", std::move(failed)}};
}

json log_record_json(const LogRecord& record) {
    return {{"seq", record.seq},
            {"time", format_rfc3339(record.time)},
            {"stream", log_stream_name(record.stream)},
            {"line", record.line}};
}

json logs_payload(std::string_view service, const std::vector<LogRecord>& records, std::uint64_t dropped) {
    json items = json::array();
    for (const auto& record : records) items.push_back(log_record_json(record));
    return {{"service", std::string(service)}, {"records", std::move(items)}, {"dropped", dropped}};
}

}  // namespace berth::supervisor::control
