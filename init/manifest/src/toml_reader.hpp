// Reading one TOML table strictly: every key must be known at its place, every value must
// have the right type, and every error is located: "file:line:column: key.path: what".
// Internal to berth_manifest; the only place besides manifest_parse.cpp that sees toml++.
#pragma once

#include "toml.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/manifest/manifest.hpp"

namespace berth::manifest::detail {

// Levenshtein distance with adjacent transpositions ("restrat" → "restart" is 1).
size_t edit_distance(std::string_view a, std::string_view b);
// Closest candidate within distance 2, or empty.
std::string_view near_miss(std::string_view word, const std::vector<std::string_view>& candidates);

SourcePosition position_from(const toml::source_region& region);

// Lists in manifests are short (arguments, capabilities, devices); a cap keeps every check on them
// cheap, whatever the text holds.
inline constexpr size_t kMaxListLength = 1024;

// The one call into toml++'s parser, for manifests and the host config: check_toml_limits first,
// then toml++'s syntax errors, and anything it throws (std::bad_alloc), as located errors.
Result<toml::table> parse_toml(std::string_view text, const std::string& file);

// The keys valid in one section, for "'memory' belongs in [resources]".
struct SectionKeys {
    std::string_view header;  // "[resources]"
    std::vector<std::string_view> keys;
};

// Shared by all readers of one file.
struct ParseContext {
    std::string file;
    ServiceManifest* positions_sink = nullptr;         // receives every key's position
    const std::vector<SectionKeys>* sections = nullptr;  // every section of the format

    std::string located(SourcePosition at) const;  // "file:line:column" (just "file" if unknown)
    tl::unexpected<Error> fail_at(SourcePosition at, const std::string& key_path, const std::string& what) const;
};

// "a string", "an integer", ... for "expected a boolean, got a string".
std::string type_phrase(toml::node_type type);

class TableReader {
public:
    TableReader(const toml::table& table, std::string path, SourcePosition position, const ParseContext& context);

    // Refuses any key not in `allowed`, the first one in file order, with a suggestion:
    // a near-miss ("did you mean 'restart'?") or the section the key belongs to.
    Result<void> check_keys(const SectionKeys& allowed) const;

    const toml::node* find(std::string_view key) const;
    SourcePosition key_position(std::string_view key) const;  // the key itself
    SourcePosition value_position(std::string_view key) const;
    SourcePosition position() const { return position_; }
    std::string key_path(std::string_view key) const;
    const std::string& path() const { return path_; }
    const ParseContext& context() const { return context_; }

    tl::unexpected<Error> fail_at_key(std::string_view key, const std::string& what) const;
    tl::unexpected<Error> fail_at_value(std::string_view key, const std::string& what) const;
    tl::unexpected<Error> fail_here(const std::string& what) const;  // at the table, naming it

    // Typed getters: nullopt when the key is absent, an error when the type or value is wrong.
    Result<std::optional<std::string>> string(std::string_view key) const;
    Result<std::optional<bool>> boolean(std::string_view key) const;
    Result<std::optional<int64_t>> integer(std::string_view key, int64_t min, int64_t max) const;
    Result<std::optional<double>> number(std::string_view key) const;  // integer or float
    // An array of at most max_count strings (longer lists are refused before any is read).
    Result<std::optional<std::vector<std::string>>> strings(std::string_view key, size_t max_count = kMaxListLength) const;
    Result<std::optional<std::string>> string_or_id(std::string_view key) const;  // "nobody" or 65534
    Result<std::optional<Duration>> duration(std::string_view key) const;
    Result<std::optional<uint64_t>> size(std::string_view key) const;  // "64M" or bytes
    // A table of strings; nested tables are flattened with '.' so that unquoted sysctl
    // names (net.ipv4.ip_forward = "1") work; integers become text when allowed.
    Result<std::optional<std::map<std::string, std::string>>> string_table(std::string_view key, bool flatten,
                                                                             bool integers_as_text) const;
    Result<std::optional<TableReader>> table(std::string_view key) const;
    // [[key]]: each element a table, at most kMaxListLength of them; nullopt when absent.
    Result<std::optional<std::vector<TableReader>>> table_array(std::string_view key) const;

    template <typename Enum>
    Result<std::optional<Enum>> choice(std::string_view key,
                                       std::initializer_list<std::pair<std::string_view, Enum>> values) const {
        auto text = TRY(string(key));
        if (!text) return std::optional<Enum>();
        std::string expected;
        size_t i = 0;
        for (const auto& [name, value] : values) {
            if (name == *text) return std::optional<Enum>(value);
            expected += (i == 0 ? "\"" : i + 1 == values.size() ? " or \"" : ", \"") + std::string(name) + "\"";
            ++i;
        }
        return fail_at_value(key, "unknown value '" + *text + "' (expected " + expected + ")");
    }

private:
    Result<const toml::node*> typed(std::string_view key, toml::node_type type) const;
    void record(std::string_view key) const;

    const toml::table& table_;
    std::string path_;
    SourcePosition position_;
    const ParseContext& context_;
};

}  // namespace berth::manifest::detail
