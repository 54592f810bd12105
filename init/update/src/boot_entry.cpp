#include "berth/update/boot_entry.hpp"

#include "berth/parse_integer.hpp"

namespace berth::update {
namespace {

// Counters above this are not ours (systemd-boot allows any; the updater writes +3).
constexpr int kMaxTries = 1000;

std::optional<int> counter_number(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
    for (char c : digits)
        if (c < '0' || c > '9') return std::nullopt;
    return parse_integer<int>(digits, 0, kMaxTries);
}

// One line's value after "key" and a separator, without surrounding blanks or quotes.
std::string value_after(std::string_view text, std::string_view key, char separator) {
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? text.size() : end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.starts_with(key) || line.size() == key.size()) continue;
        std::string_view rest = line.substr(key.size());
        if (rest.front() != separator && !(separator == ' ' && rest.front() == '\t')) continue;
        rest.remove_prefix(1);
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
        if (rest.size() >= 2 && (rest.front() == '"' || rest.front() == '\'') && rest.back() == rest.front())
            rest = rest.substr(1, rest.size() - 2);
        return std::string(rest);
    }
    return "";
}

}  // namespace

std::optional<BootEntryName> parse_entry_name(std::string_view name) {
    if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    constexpr std::string_view kSuffix = ".conf";
    if (!name.ends_with(kSuffix)) return std::nullopt;
    name.remove_suffix(kSuffix.size());
    BootEntryName entry{std::string(name), std::nullopt, std::nullopt};
    if (auto plus = name.rfind('+'); plus != std::string_view::npos) {
        std::string_view counter = name.substr(plus + 1);
        auto dash = counter.find('-');
        auto left = counter_number(counter.substr(0, dash));
        auto done = dash == std::string_view::npos ? std::optional<int>(0) : counter_number(counter.substr(dash + 1));
        if (left && done) {
            entry.base = std::string(name.substr(0, plus));
            entry.tries_left = left;
            if (dash != std::string_view::npos) entry.tries_done = done;
        }
    }
    if (entry.base.empty()) return std::nullopt;
    return entry;
}

std::string entry_file_name(const BootEntryName& entry) {
    if (!entry.tries_left) return blessed_file_name(entry);
    std::string name = entry.base + "+" + std::to_string(*entry.tries_left);
    if (entry.tries_done) name += "-" + std::to_string(*entry.tries_done);
    return name + ".conf";
}

std::string blessed_file_name(const BootEntryName& entry) { return entry.base + ".conf"; }

std::string slot_of_entry(std::string_view base) {
    constexpr std::string_view kPrefix = "berth-";
    if (!base.starts_with(kPrefix) || base.size() == kPrefix.size()) return "";
    std::string_view slot = base.substr(kPrefix.size());
    for (char c : slot)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return "";
    return std::string(slot);
}

bool tries_spent(const BootEntryName& entry) { return entry.tries_left && *entry.tries_left == 0; }

bool other_slot_can_boot(const std::vector<std::string>& entry_files, std::string_view slot) {
    for (const auto& file : entry_files) {
        auto entry = parse_entry_name(file);
        if (!entry || tries_spent(*entry)) continue;
        std::string other = slot_of_entry(entry->base);
        if (!other.empty() && other != slot) return true;
    }
    return false;
}

std::optional<std::string> parse_efi_string_variable(std::string_view contents) {
    constexpr size_t kAttributes = 4;
    if (contents.size() < kAttributes + 2 || (contents.size() - kAttributes) % 2 != 0) return std::nullopt;
    std::string text;
    for (size_t i = kAttributes; i + 1 < contents.size(); i += 2) {
        auto low = static_cast<unsigned char>(contents[i]), high = static_cast<unsigned char>(contents[i + 1]);
        if (high != 0 || low >= 0x80) return std::nullopt;
        if (low == 0) return text.empty() ? std::nullopt : std::optional(text);
        text.push_back(static_cast<char>(low));
    }
    return text.empty() ? std::nullopt : std::optional(text);  // no NUL: taken as it is
}

std::string entry_version(std::string_view entry_text) { return value_after(entry_text, "version", ' '); }

std::string os_release_version(std::string_view os_release_text) {
    return value_after(os_release_text, "VERSION_ID", '=');
}

}  // namespace berth::update
