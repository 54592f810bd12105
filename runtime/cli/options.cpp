#include "options.hpp"

namespace berth::cli {

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& ParsedArgs::all(const std::string& name) const {
    static const std::vector<std::string> empty;
    auto it = values.find(name);
    return it == values.end() ? empty : it->second;
}

Result<ParsedArgs> parse_args(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags,
                              bool stop_at_positional) {
    ParsedArgs out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            out.positional.insert(out.positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            out.positional.push_back(arg);
            if (stop_at_positional) {
                out.positional.insert(out.positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
                break;
            }
            continue;
        }
        std::string name = arg, value;
        bool inline_value = false;
        if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inline_value = true;
        }
        // runc accepts single-dash long flags ("-bundle"); normalise them.
        if (name.size() > 2 && name[0] == '-' && name[1] != '-') name = "-" + name;
        const FlagSpec* spec = nullptr;
        for (const auto& f : flags)
            for (const auto& n : f.names)
                if (n == name || (n.size() == 2 && name == "-" + n)) spec = &f;
        if (!spec) return fail("unknown flag '" + arg + "'");
        std::string key = spec->names.front().substr(spec->names.front().find_first_not_of('-'));
        if (spec->takes_value) {
            if (!inline_value) {
                if (i + 1 >= args.size()) return fail("flag '" + name + "' needs a value");
                value = args[++i];
            }
        } else if (inline_value) {
            if (value != "true" && value != "false") return fail("flag '" + name + "' takes no value");
            if (value == "false") continue;
        }
        auto& slot = out.values[key];
        if (!spec->repeatable) slot.clear();
        slot.push_back(value);
    }
    return out;
}

}  // namespace berth::cli
