// A cheap lexical pass over TOML text before toml++ sees it: toml++ recurses once per level of
// nesting, so a few hundred thousand brackets, braces or dotted-key parts would overflow the
// stack of whoever parses (PID 1 for `berthctl add`). Strings and comments are skipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "berth/result.hpp"

namespace berth::manifest::detail {

struct TomlLimits {
    std::size_t max_bytes = 1024 * 1024;  // a manifest or host config is a few KiB
    std::size_t max_depth = 32;           // open [ and { at once (arrays, inline tables, headers)
    std::size_t max_key_parts = 32;       // parts of one dotted key: a.b.c is 3
};

// Refuses text beyond the limits: "file: ..." for the size, "file:line:column: ..." at the
// bracket or key part that goes too deep.
Result<void> check_toml_limits(std::string_view text, const std::string& file, const TomlLimits& limits = {});

}  // namespace berth::manifest::detail
