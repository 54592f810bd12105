#include "toml_limits.hpp"

namespace berth::manifest::detail {

namespace {

// Walks the text byte by byte, tracking line and column (1-based, in bytes).
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    bool done() const { return at_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const { return at_ + ahead < text_.size() ? text_[at_ + ahead] : '\0'; }
    bool next_is(std::string_view what) const { return text_.substr(at_).starts_with(what); }
    std::size_t line() const { return line_; }
    std::size_t column() const { return column_; }

    void advance(std::size_t count = 1) {
        for (; count > 0 && !done(); --count) {
            if (text_[at_++] == '\n') {
                ++line_;
                column_ = 1;
            } else {
                ++column_;
            }
        }
    }

    // After an opening quote: up to and including the closing one (or the end of the line,
    // which toml++ then reports as unterminated).
    void skip_single_line_string(char quote) {
        while (!done() && peek() != '\n') {
            if (quote == '"' && peek() == '\\') {
                advance(peek(1) == '\n' ? 1 : 2);
                continue;
            }
            bool closing = peek() == quote;
            advance();
            if (closing) return;
        }
    }

    // After an opening """ or ''': up to and including the closing three quotes, plus the
    // one or two quotes TOML allows right before them.
    void skip_multiline_string(char quote) {
        const std::string delimiter(3, quote);
        while (!done()) {
            if (quote == '"' && peek() == '\\') {
                advance(2);
                continue;
            }
            if (next_is(delimiter)) {
                advance(3);
                for (int extra = 0; extra < 2 && peek() == quote; ++extra) advance();
                return;
            }
            advance();
        }
    }

    void skip_comment() {
        while (!done() && peek() != '\n') advance();
    }

private:
    std::string_view text_;
    std::size_t at_ = 0, line_ = 1, column_ = 1;
};

}  // namespace

Result<void> check_toml_limits(std::string_view text, const std::string& file, const TomlLimits& limits) {
    if (text.size() > limits.max_bytes)
        return fail(file + ": " + std::to_string(text.size()) + " bytes, more than the " +
                    std::to_string(limits.max_bytes) + " allowed");
    Scanner scan(text);
    auto located = [&](const std::string& what) {
        return fail(file + ":" + std::to_string(scan.line()) + ":" + std::to_string(scan.column()) + ": " + what);
    };
    std::size_t depth = 0;
    // Dots since the last character that ends a key: more than max_key_parts - 1 of them is a
    // dotted key too long. A value holds at most one dot (1.5, a time's fraction).
    std::size_t dots = 0;
    while (!scan.done()) {
        const char c = scan.peek();
        if (c == '"' || c == '\'') {
            const bool multiline = scan.next_is(std::string(3, c));
            scan.advance(multiline ? 3 : 1);
            multiline ? scan.skip_multiline_string(c) : scan.skip_single_line_string(c);
            continue;
        }
        if (c == '#') {
            scan.skip_comment();
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > limits.max_depth)
                return located("nested deeper than " + std::to_string(limits.max_depth) + " levels of [ and {");
            dots = 0;
        } else if (c == ']' || c == '}') {
            if (depth > 0) --depth;
            dots = 0;
        } else if (c == '.') {
            if (++dots >= limits.max_key_parts)
                return located("a dotted key of more than " + std::to_string(limits.max_key_parts) + " parts");
        } else if (c == '=' || c == ',' || c == '\n') {
            dots = 0;
        }
        scan.advance();
    }
    return {};
}

}  // namespace berth::manifest::detail
