#include "berth/logd/ingest.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "berth/supervisor/wall_time.hpp"

namespace berth::logd {

namespace {

const char* const kKeys[] = {"service", "time", "stream", "line"};

Result<std::string> string_field(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) return fail(std::string("missing \"") + key + "\"");
    if (!it->is_string()) return fail(std::string("\"") + key + "\" is not a string");
    return it->get<std::string>();
}

}  // namespace

Result<LogRecord> parse_ingest_record(std::string_view message) {
    nlohmann::json object;
    try {
        object = nlohmann::json::parse(message);
    } catch (const nlohmann::json::parse_error& e) {  // parse() throws only this; contain it here
        return fail("invalid JSON at byte " + std::to_string(e.byte));
    }
    if (!object.is_object()) return fail("not a JSON object");
    for (const auto& [key, value] : object.items()) {
        if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
            return fail("unknown key \"" + key + "\"");
    }
    LogRecord record;
    record.service = TRY(string_field(object, "service"));
    if (!is_valid_log_name(record.service)) return fail("invalid service name '" + record.service + "'");
    std::string time = TRY(string_field(object, "time"));
    record.time = TRY_CTX(supervisor::parse_rfc3339(time), "\"time\"");
    std::string stream = TRY(string_field(object, "stream"));
    if (stream == "stdout") record.stream = Stream::Stdout;
    else if (stream == "stderr") record.stream = Stream::Stderr;
    else return fail("\"stream\" must be \"stdout\" or \"stderr\", not '" + stream + "'");
    record.text = TRY(string_field(object, "line"));
    return record;
}

}  // namespace berth::logd
