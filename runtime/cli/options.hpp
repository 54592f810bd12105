// Command-line parsing for `berth`: the global flags and each subcommand's flags, in the
// forms runc and crun accept ("--bundle DIR", "--bundle=DIR", "-b DIR", "-d").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/result.hpp"

namespace berth::cli {

struct FlagSpec {
    std::vector<std::string> names;  // "--bundle", "-b"
    bool takes_value = false;
    bool repeatable = false;
};

struct ParsedArgs {
    std::map<std::string, std::vector<std::string>> values;  // by first name, without dashes
    std::vector<std::string> positional;

    bool has(const std::string& name) const { return values.count(name) != 0; }
    std::string get(const std::string& name, const std::string& fallback = "") const;
    const std::vector<std::string>& all(const std::string& name) const;
};

// Parses flags until the first positional argument when `stop_at_positional` (so that
// `exec ID sh -c ...` keeps the command's own flags), else anywhere.
Result<ParsedArgs> parse_args(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags,
                              bool stop_at_positional);

}  // namespace berth::cli
