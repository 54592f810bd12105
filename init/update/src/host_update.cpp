#include "berth/update/host_update.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <sstream>

#include "berth/parse_integer.hpp"
#include "berth/sys.hpp"
#include "berth/update/boot_entry.hpp"
#include "berth/update/boot_record.hpp"

namespace berth::update {
namespace {

constexpr const char* kEntries = "/loader/entries";

std::string first_line(std::string text) { return text.substr(0, text.find('\n')); }


}  // namespace

std::vector<std::string> entry_files(const std::string& entries_dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(entries_dir.c_str())) {
        while (auto* e = ::readdir(d))
            if (std::string_view(e->d_name).ends_with(".conf")) names.emplace_back(e->d_name);
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string other_slot(std::string_view slot) { return slot == "a" ? "b" : "a"; }

std::string utc_now() {
    std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

Result<std::string> read_booted_slot(const HostPaths& paths) {
    auto slot = first_line(TRY_CTX(sys::read_file(paths.boot_slot), "which slot this host booted from"));
    if (slot != "a" && slot != "b") return fail(paths.boot_slot + ": '" + slot + "' is not a slot (a or b)");
    return slot;
}

Result<HostFacts> read_host_facts(const HostPaths& paths) {
    HostFacts facts;
    facts.version = os_release_version(TRY(sys::read_file(paths.os_release)));
    if (facts.version.empty()) return fail(paths.os_release + " has no VERSION_ID");
    facts.compatible = first_line(TRY(sys::read_file(paths.compatible)));
    struct utsname u{};
    ::uname(&u);
    facts.architecture = u.machine;
    facts.failed_versions = failed_versions(paths);
    return facts;
}

std::string SlotView::state() const {
    // An entry without its version line is one a power cut emptied (or not ours): not bootable.
    if (entry.empty() || version.empty() || !boot_files) return "empty";
    if (!tries_left) return "good";
    return *tries_left > 0 ? "trying" : "bad";
}

std::vector<SlotView> read_slots(const std::string& esp) {
    std::vector<SlotView> slots;
    for (const char* slot : {"a", "b"}) {
        SlotView view{slot};
        for (const auto& file : entry_files(esp + kEntries)) {
            auto name = parse_entry_name(file);
            if (!name || slot_of_entry(name->base) != slot) continue;
            view.entry = file;
            view.tries_left = name->tries_left;
            view.tries_done = name->tries_done;
            if (auto text = sys::read_file(esp + kEntries + "/" + file)) view.version = entry_version(*text);
        }
        std::string dir = esp + "/berth/" + slot;
        view.boot_files = sys::file_size(dir + "/vmlinuz") > 0 && sys::file_size(dir + "/initramfs.img") > 0;
        slots.push_back(view);
    }
    return slots;
}

Result<void> save_record(const HostPaths& paths, const std::string& name, const nlohmann::json& record) {
    TRY(sys::mkdir_p(paths.state_dir, 0700));
    return sys::write_file_durably(paths.state_dir + "/" + name,
                                   record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0600);
}

std::optional<nlohmann::json> load_record(const HostPaths& paths, const std::string& name) {
    auto text = sys::read_file(paths.state_dir + "/" + name);
    if (!text) return std::nullopt;
    auto record = nlohmann::json::parse(*text, nullptr, false);
    if (record.is_discarded() || !record.is_object()) return std::nullopt;
    return record;
}

std::vector<std::string> failed_versions(const HostPaths& paths) {
    std::vector<std::string> versions;
    if (auto kept = load_record(paths, kFailedVersionsRecord); kept && kept->contains("versions") && (*kept)["versions"].is_array())
        for (const auto& v : (*kept)["versions"])
            if (v.is_string()) versions.push_back(v.get<std::string>());
    if (auto records = read_boot_records(paths.state_dir))
        for (const auto& r : *records)
            if (r.outcome == BootOutcome::Failed && !r.version.empty() &&
                std::find(versions.begin(), versions.end(), r.version) == versions.end())
                versions.push_back(r.version);
    return versions;
}

Result<void> remember_failed_versions(const HostPaths& paths, const std::vector<std::string>& versions) {
    return save_record(paths, kFailedVersionsRecord, {{"versions", versions}});
}

nlohmann::json in_progress_record(const nlohmann::json& started, const BundleManifest& manifest, std::string_view booted_slot) {
    nlohmann::json record = started;
    record.update({{"outcome", "in-progress"}, {"version", manifest.version}, {"booted_slot", booted_slot},
                   {"reason", "writing slot " + record.value("slot", std::string("?")) + " began"}});
    return record;
}

nlohmann::json last_update_view(nlohmann::json record, const std::vector<SlotView>& slots) {
    if (!record.is_object()) return record;
    auto outcome = record.find("outcome");
    if (outcome == record.end() || *outcome != "in-progress") return record;
    auto text = [&](const char* key) {
        auto it = record.find(key);
        return it != record.end() && it->is_string() ? it->get<std::string>() : std::string("?");
    };
    std::string slot = text("slot"), version = text("version");
    auto view = std::find_if(slots.begin(), slots.end(), [&](const SlotView& v) { return v.slot == slot; });
    bool has_entry = view != slots.end() && view->state() != "empty";
    record["interrupted"] = true;
    if (has_entry && view->version != version) {
        // The entry goes first, before any byte of the slot: one of another version means the slot was not touched.
        record["outcome"] = "interrupted";
        record["reason"] = "the update job was cut off (power loss or a kill) before it changed slot " + slot + ", which still holds " +
                           view->version;
        record["slot_state"] = "unchanged";
    } else if (has_entry) {
        record["outcome"] = "installed";
        record["reason"] = "the update job was cut off (power loss or a kill) after slot " + slot + "'s boot entry was written: " +
                           version + " was installed completely";
    } else {
        record["outcome"] = "interrupted";
        record["reason"] = "the update job was cut off (power loss or a kill) while it wrote slot " + slot + ": slot " + slot +
                           " holds no bootable system until the next update; slot " + text("booted_slot") + " was not touched";
        record["slot_state"] = "no bootable system until the next update";
    }
    return record;
}

nlohmann::json status_json(const HostPaths& paths) {
    nlohmann::json status = nlohmann::json::object();
    auto booted = read_booted_slot(paths);
    status["booted_slot"] = booted ? nlohmann::json(*booted) : nlohmann::json(nullptr);
    if (auto facts = read_host_facts(paths)) status["running_version"] = facts->version;
    nlohmann::json slots = nlohmann::json::object();
    auto views = read_slots(paths.esp);
    for (const auto& view : views) {
        slots[view.slot] = {
            {"entry", view.entry.empty() ? nlohmann::json(nullptr) : nlohmann::json(view.entry)},
            {"version", view.version.empty() ? nlohmann::json(nullptr) : nlohmann::json(view.version)},
            {"tries_left", view.tries_left ? nlohmann::json(*view.tries_left) : nlohmann::json(nullptr)},
            {"tries_done", view.tries_done ? nlohmann::json(*view.tries_done) : nlohmann::json(nullptr)},
            {"state", view.state()},
            {"booted", booted && *booted == view.slot},
        };
    }
    status["slots"] = slots;
    status["last_update"] = last_update_view(load_record(paths, kLastUpdateRecord).value_or(nullptr), views);
    status["last_rollback"] = load_record(paths, kLastRollbackRecord).value_or(nullptr);
    nlohmann::json boots = nlohmann::json::object();
    if (auto records = read_boot_records(paths.state_dir))
        for (const auto& r : *records) boots[r.slot] = nlohmann::json::parse(format_boot_record(r), nullptr, false);
    status["boots"] = boots;
    status["failed_versions"] = failed_versions(paths);
    return status;
}

Result<std::string> rollback(const HostPaths& paths) {
    std::string booted = TRY(read_booted_slot(paths)), other = other_slot(booted);
    SlotView current, target;
    for (const auto& view : read_slots(paths.esp)) (view.slot == booted ? current : target) = view;
    if (target.state() != "good")
        return fail("slot " + other + " is " + target.state() +
                    (target.entry.empty() ? " (no boot entry)" : " (entry " + target.entry + ")") + ": nothing good to roll back to");
    if (current.entry.empty()) return fail("slot " + booted + " (booted) has no boot entry: slot " + other + " boots next already");
    std::string entries = paths.esp + kEntries;
    std::string spent = "berth-" + booted + "+0-" + std::to_string(current.tries_done.value_or(0) + 1) + ".conf";
    TRY(sys::rename_durably(entries + "/" + current.entry, entries + "/" + spent));
    return "slot " + other + " (" + target.version + ") boots next; slot " + booted + "'s entry is now " + spent +
           " (tries spent), so the boot loader passes it over";
}

}  // namespace berth::update
