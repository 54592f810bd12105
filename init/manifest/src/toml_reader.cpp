#include "toml_reader.hpp"

#include <algorithm>
#include <cmath>

#include "berth/manifest/units.hpp"
#include "toml_limits.hpp"

namespace berth::manifest::detail {

size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment over a full matrix; keys are short.
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

std::string_view near_miss(std::string_view word, const std::vector<std::string_view>& candidates) {
    // Unknown keys can be arbitrarily long; anything far longer than a key is no near miss.
    if (word.size() > 64) return {};
    std::string_view best;
    size_t best_distance = 3;
    for (std::string_view candidate : candidates) {
        size_t distance = edit_distance(word, candidate);
        // A distance as large as the candidate itself means nothing in common.
        if (distance < best_distance && distance < candidate.size()) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

SourcePosition position_from(const toml::source_region& region) {
    return SourcePosition{region.begin.line, region.begin.column};
}

Result<toml::table> parse_toml(std::string_view text, const std::string& file) {
    TRY(check_toml_limits(text, file));
    ParseContext context{file};
    try {
        // Built with TOML_EXCEPTIONS=0: syntax errors come back as a value, never thrown.
        toml::parse_result parsed = toml::parse(text, file);
        if (!parsed)
            return fail(context.located(position_from(parsed.error().source())) + ": invalid TOML: " +
                        std::string(parsed.error().description()));
        return std::move(parsed).table();
    } catch (const std::exception& error) {  // allocation failures: the only throws left
        return fail(file + ": cannot parse: " + error.what());
    }
}

std::string ParseContext::located(SourcePosition at) const {
    if (at.line == 0) return file;
    return file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

tl::unexpected<Error> ParseContext::fail_at(SourcePosition at, const std::string& key_path,
                                            const std::string& what) const {
    return fail(located(at) + ": " + key_path + ": " + what);
}

std::string type_phrase(toml::node_type type) {
    switch (type) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

TableReader::TableReader(const toml::table& table, std::string path, SourcePosition position,
                         const ParseContext& context)
    : table_(table), path_(std::move(path)), position_(position), context_(context) {}

Result<void> TableReader::check_keys(const SectionKeys& allowed) const {
    const toml::key* first_unknown = nullptr;
    for (auto&& [key, value] : table_) {
        (void)value;
        if (std::find(allowed.keys.begin(), allowed.keys.end(), key.str()) != allowed.keys.end()) continue;
        auto before = [](const toml::key& a, const toml::key& b) {
            auto pa = position_from(a.source()), pb = position_from(b.source());
            return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
        };
        if (!first_unknown || before(key, *first_unknown)) first_unknown = &key;
    }
    if (!first_unknown) return {};
    std::string_view name = first_unknown->str();
    std::string what = "unknown key";
    if (std::string_view suggestion = near_miss(name, allowed.keys); !suggestion.empty()) {
        what += "; did you mean '" + std::string(suggestion) + "'?";
    } else if (context_.sections) {
        for (const auto& section : *context_.sections) {
            if (&section == &allowed) continue;
            if (std::find(section.keys.begin(), section.keys.end(), name) != section.keys.end()) {
                what += "; '" + std::string(name) + "' belongs in " + std::string(section.header);
                break;
            }
        }
    }
    return context_.fail_at(position_from(first_unknown->source()), key_path(name), what);
}

const toml::node* TableReader::find(std::string_view key) const { return table_.get(key); }

SourcePosition TableReader::key_position(std::string_view key) const {
    auto it = table_.find(key);
    if (it == table_.end()) return position_;
    return position_from(it->first.source());
}

SourcePosition TableReader::value_position(std::string_view key) const {
    const toml::node* node = find(key);
    if (!node) return position_;
    SourcePosition at = position_from(node->source());
    // Tables made implicitly by a dotted header ([a.b] makes a) have no position of their own.
    return at.line == 0 ? key_position(key) : at;
}

std::string TableReader::key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

tl::unexpected<Error> TableReader::fail_at_key(std::string_view key, const std::string& what) const {
    return context_.fail_at(key_position(key), key_path(key), what);
}

tl::unexpected<Error> TableReader::fail_at_value(std::string_view key, const std::string& what) const {
    return context_.fail_at(value_position(key), key_path(key), what);
}

tl::unexpected<Error> TableReader::fail_here(const std::string& what) const {
    return context_.fail_at(position_, path_.empty() ? "(top level)" : path_, what);
}

void TableReader::record(std::string_view key) const {
    if (context_.positions_sink) context_.positions_sink->positions[key_path(key)] = value_position(key);
}

Result<const toml::node*> TableReader::typed(std::string_view key, toml::node_type type) const {
    const toml::node* node = find(key);
    if (!node) return nullptr;
    record(key);
    if (node->type() != type)
        return fail_at_value(key, "expected " + type_phrase(type) + ", got " + type_phrase(node->type()));
    return node;
}

namespace {

// Strings become paths, argv and environment: a NUL would silently cut them short.
bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

}  // namespace

Result<std::optional<std::string>> TableReader::string(std::string_view key) const {
    const toml::node* node = TRY(typed(key, toml::node_type::string));
    if (!node) return std::optional<std::string>();
    const std::string& text = node->as_string()->get();
    if (has_nul(text)) return fail_at_value(key, "contains a NUL character");
    return std::optional<std::string>(text);
}

Result<std::optional<bool>> TableReader::boolean(std::string_view key) const {
    const toml::node* node = TRY(typed(key, toml::node_type::boolean));
    if (!node) return std::optional<bool>();
    return std::optional<bool>(node->as_boolean()->get());
}

Result<std::optional<int64_t>> TableReader::integer(std::string_view key, int64_t min, int64_t max) const {
    const toml::node* node = TRY(typed(key, toml::node_type::integer));
    if (!node) return std::optional<int64_t>();
    int64_t value = node->as_integer()->get();
    if (value < min || value > max)
        return fail_at_value(key, std::to_string(value) + " is out of range (" + std::to_string(min) + ".." +
                                      std::to_string(max) + ")");
    return std::optional<int64_t>(value);
}

Result<std::optional<double>> TableReader::number(std::string_view key) const {
    const toml::node* node = find(key);
    if (!node) return std::optional<double>();
    record(key);
    if (node->is_integer()) return std::optional<double>(static_cast<double>(node->as_integer()->get()));
    if (node->is_floating_point()) {
        double value = node->as_floating_point()->get();
        if (!std::isfinite(value)) return fail_at_value(key, "expected a finite number");
        return std::optional<double>(value);
    }
    return fail_at_value(key, "expected a number, got " + type_phrase(node->type()));
}

Result<std::optional<std::vector<std::string>>> TableReader::strings(std::string_view key, size_t max_count) const {
    const toml::node* node = TRY(typed(key, toml::node_type::array));
    if (!node) return std::optional<std::vector<std::string>>();
    std::vector<std::string> out;
    const toml::array& array = *node->as_array();
    if (array.size() > max_count)
        return fail_at_value(key, std::to_string(array.size()) + " entries, more than the " + std::to_string(max_count) +
                                      " allowed");
    for (size_t i = 0; i < array.size(); ++i) {
        const toml::node& element = *array.get(i);
        std::string element_path = key_path(key) + "[" + std::to_string(i) + "]";
        SourcePosition at = position_from(element.source());
        if (context_.positions_sink) context_.positions_sink->positions[element_path] = at;
        if (!element.is_string())
            return context_.fail_at(at, element_path, "expected a string, got " + type_phrase(element.type()));
        const std::string& text = element.as_string()->get();
        if (has_nul(text)) return context_.fail_at(at, element_path, "contains a NUL character");
        out.push_back(text);
    }
    return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::string>> TableReader::string_or_id(std::string_view key) const {
    const toml::node* node = find(key);
    if (node && node->is_integer()) {
        auto id = TRY(integer(key, 0, UINT32_MAX));
        return std::optional<std::string>(std::to_string(*id));
    }
    if (node && !node->is_string())
        return fail_at_value(key, "expected a name or a number, got " + type_phrase(node->type()));
    return string(key);
}

Result<std::optional<Duration>> TableReader::duration(std::string_view key) const {
    const toml::node* node = find(key);
    if (node && node->is_integer())  // a bare number has no unit: refuse rather than guess
        return fail_at_value(key, "expected a duration string with a unit, e.g. \"" +
                                      std::to_string(node->as_integer()->get()) + "s\"");
    auto text = TRY(string(key));
    if (!text) return std::optional<Duration>();
    auto parsed = parse_duration(*text);
    if (!parsed) return fail_at_value(key, parsed.error().message);
    return std::optional<Duration>(*parsed);
}

Result<std::optional<uint64_t>> TableReader::size(std::string_view key) const {
    const toml::node* node = find(key);
    if (node && node->is_integer()) {
        auto bytes = TRY(integer(key, 0, INT64_MAX));
        return std::optional<uint64_t>(static_cast<uint64_t>(*bytes));
    }
    if (node && !node->is_string())
        return fail_at_value(key, "expected a size like \"64M\" or a number of bytes, got " + type_phrase(node->type()));
    auto text = TRY(string(key));
    if (!text) return std::optional<uint64_t>();
    auto parsed = parse_size(*text);
    if (!parsed) return fail_at_value(key, parsed.error().message);
    return std::optional<uint64_t>(*parsed);
}

Result<std::optional<std::map<std::string, std::string>>> TableReader::string_table(std::string_view key,
                                                                                    bool flatten,
                                                                                    bool integers_as_text) const {
    const toml::node* node = TRY(typed(key, toml::node_type::table));
    if (!node) return std::optional<std::map<std::string, std::string>>();
    std::map<std::string, std::string> out;
    // Iterative walk: (table, name prefix) pairs; TOML nesting is bounded by toml++ anyway.
    std::vector<std::pair<const toml::table*, std::string>> pending{{node->as_table(), ""}};
    while (!pending.empty()) {
        auto [table, prefix] = pending.back();
        pending.pop_back();
        for (auto&& [entry_key, value] : *table) {
            std::string name = prefix + std::string(entry_key.str());
            std::string entry_path = key_path(key) + "." + name;
            SourcePosition at = position_from(value.source());
            if (at.line == 0) at = position_from(entry_key.source());
            if (has_nul(name)) return context_.fail_at(at, key_path(key), "a name contains a NUL character");
            if (flatten && value.is_table()) {
                pending.emplace_back(value.as_table(), name + ".");
                continue;
            }
            std::string text;
            if (value.is_string()) {
                text = value.as_string()->get();
            } else if (integers_as_text && value.is_integer()) {
                text = std::to_string(value.as_integer()->get());
            } else {
                return context_.fail_at(at, entry_path, "expected a string, got " + type_phrase(value.type()));
            }
            if (has_nul(text)) return context_.fail_at(at, entry_path, "contains a NUL character");
            out[name] = text;
        }
    }
    return std::optional<std::map<std::string, std::string>>(std::move(out));
}

Result<std::optional<TableReader>> TableReader::table(std::string_view key) const {
    const toml::node* node = find(key);
    if (!node) return std::optional<TableReader>();
    record(key);
    if (node->is_array_of_tables())
        return fail_at_key(key, "expected a table ([" + key_path(key) + "]), got an array of tables");
    if (!node->is_table()) return fail_at_value(key, "expected a table, got " + type_phrase(node->type()));
    return std::optional<TableReader>(TableReader(*node->as_table(), key_path(key), value_position(key), context_));
}

Result<std::optional<std::vector<TableReader>>> TableReader::table_array(std::string_view key) const {
    const toml::node* node = find(key);
    if (!node) return std::optional<std::vector<TableReader>>();
    record(key);
    if (node->is_table())
        return fail_at_key(key, "expected an array of tables ([[" + key_path(key) + "]]), got a table");
    if (!node->is_array()) return fail_at_value(key, "expected an array of tables, got " + type_phrase(node->type()));
    std::vector<TableReader> out;
    const toml::array& array = *node->as_array();
    if (array.size() > kMaxListLength)
        return fail_at_key(key, std::to_string(array.size()) + " entries, more than the " +
                                    std::to_string(kMaxListLength) + " allowed");
    for (size_t i = 0; i < array.size(); ++i) {
        const toml::node& element = *array.get(i);
        std::string element_path = key_path(key) + "[" + std::to_string(i) + "]";
        SourcePosition at = position_from(element.source());
        if (!element.is_table())
            return context_.fail_at(at, element_path, "expected a table, got " + type_phrase(element.type()));
        out.emplace_back(*element.as_table(), element_path, at, context_);
    }
    return std::optional<std::vector<TableReader>>(std::move(out));
}

}  // namespace berth::manifest::detail
