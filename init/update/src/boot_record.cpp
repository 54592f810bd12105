#include "berth/update/boot_record.hpp"

#include <dirent.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "berth/sys.hpp"
#include "berth/update/boot_entry.hpp"

namespace berth::update {
namespace {

constexpr size_t kMaxRecordBytes = 64 * 1024;

Result<std::string> text_field(const nlohmann::json& object, const char* key) {
    auto at = object.find(key);
    if (at == object.end() || !at->is_string()) return fail(std::string("'") + key + "' must be a string");
    return at->get<std::string>();
}

}  // namespace

const char* boot_outcome_name(BootOutcome outcome) { return outcome == BootOutcome::Blessed ? "blessed" : "failed"; }

std::string format_boot_record(const BootRecord& record) {
    nlohmann::ordered_json object = {{"slot", record.slot},       {"version", record.version},
                                     {"entry", record.entry},     {"outcome", boot_outcome_name(record.outcome)},
                                     {"step", record.step},       {"reason", record.reason},
                                     {"time", record.time},       {"tries_left", record.tries_left}};
    // Replacement characters instead of an exception for text that is not UTF-8.
    return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<BootRecord> parse_boot_record(std::string_view json) {
    if (json.size() > kMaxRecordBytes) return fail("a boot record is at most 64 KiB");
    nlohmann::json object = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) return fail("a boot record is one JSON object");
    BootRecord record;
    record.slot = TRY(text_field(object, "slot"));
    if (slot_of_entry("berth-" + record.slot) != record.slot) return fail("'slot' must be a slot name ([a-z0-9]+)");
    record.version = TRY(text_field(object, "version"));
    record.entry = TRY(text_field(object, "entry"));
    std::string outcome = TRY(text_field(object, "outcome"));
    if (outcome == "blessed") record.outcome = BootOutcome::Blessed;
    else if (outcome == "failed") record.outcome = BootOutcome::Failed;
    else return fail("'outcome' must be \"blessed\" or \"failed\", not '" + outcome + "'");
    record.step = TRY(text_field(object, "step"));
    record.reason = TRY(text_field(object, "reason"));
    record.time = TRY(text_field(object, "time"));
    auto tries = object.find("tries_left");
    if (tries == object.end() || !tries->is_number_integer() || tries->get<long long>() < -1 ||
        tries->get<long long>() > 1000)
        return fail("'tries_left' must be an integer from -1 to 1000");
    record.tries_left = tries->get<int>();
    return record;
}

std::string boot_record_path(const std::string& dir, const std::string& slot) { return dir + "/boot-" + slot + ".json"; }

Result<std::vector<BootRecord>> read_boot_records(const std::string& dir) {
    std::vector<BootRecord> records;
    DIR* listing = ::opendir(dir.c_str());
    if (!listing) return records;
    std::vector<std::string> files;
    while (auto* entry = ::readdir(listing)) {
        std::string_view name = entry->d_name;
        if (name.starts_with("boot-") && name.ends_with(".json")) files.emplace_back(name);
    }
    ::closedir(listing);
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        std::string path = dir + "/" + file;
        auto text = TRY(sys::read_file(path));
        records.push_back(TRY_CTX(parse_boot_record(text), path));
    }
    return records;
}

std::string early_failure_path(const std::string& dir, const std::string& slot) {
    return dir + "/early-failure-" + slot + ".json";
}

std::string format_early_failure(const EarlyFailure& note) {
    nlohmann::ordered_json object = {{"slot", note.slot}, {"root_hash", note.root_hash}, {"reason", note.reason}, {"time", note.time}};
    return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<EarlyFailure> parse_early_failure(std::string_view json) {
    if (json.size() > kMaxRecordBytes) return std::nullopt;
    nlohmann::json object = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) return std::nullopt;
    EarlyFailure note;
    for (auto [key, field] : {std::pair{"slot", &note.slot}, {"root_hash", &note.root_hash}, {"reason", &note.reason}, {"time", &note.time}}) {
        auto text = text_field(object, key);
        if (!text) return std::nullopt;
        *field = std::move(*text);
    }
    if (note.root_hash.empty() || note.reason.empty()) return std::nullopt;
    return note;
}

bool early_failure_is_for(const EarlyFailure& note, std::string_view entry_text) {
    for (size_t line_start = 0; line_start < entry_text.size();) {
        size_t end = entry_text.find('\n', line_start);
        std::string_view line = entry_text.substr(line_start, end == std::string_view::npos ? std::string_view::npos : end - line_start);
        line_start = end == std::string_view::npos ? entry_text.size() : end + 1;
        if (!line.starts_with("options")) continue;
        std::string word = "berth.verity=" + note.root_hash;
        for (size_t at = line.find(word); at != std::string_view::npos; at = line.find(word, at + 1)) {
            bool starts = line[at - 1] == ' ' || line[at - 1] == '\t';
            bool ends = at + word.size() == line.size() || line[at + word.size()] == ' ' || line[at + word.size()] == '\t';
            if (starts && ends) return true;
        }
    }
    return false;
}

}  // namespace berth::update
