#include "berth/logd/options.hpp"

#include "berth/parse_integer.hpp"

namespace berth::logd {

namespace {

Result<std::uint64_t> parse_count(const std::string& flag, const std::string& text, std::uint64_t minimum) {
    auto value = parse_integer<std::uint64_t>(text);
    if (!value) return fail(flag + ": not a number: '" + text + "'");
    if (*value < minimum) return fail(flag + ": must be at least " + std::to_string(minimum));
    return *value;
}

}  // namespace

Result<Options> parse_options(const std::vector<std::string>& args) {
    Options options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string flag = args[i];
        std::string value;
        if (auto equals = flag.find('='); flag.starts_with("--") && equals != std::string::npos) {
            value = flag.substr(equals + 1);
            flag.resize(equals);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return fail(flag + ": missing value");
        }
        if (flag == "--dir") options.dir = value;
        else if (flag == "--ingest") options.ingest_socket = value;
        else if (flag == "--syslog") options.syslog_socket = value;
        else if (flag == "--kmsg") options.kmsg_path = value;
        else if (flag == "--max-bytes") options.rotation.max_bytes = TRY(parse_count(flag, value, 1024));
        else if (flag == "--keep") options.rotation.keep = static_cast<unsigned>(TRY(parse_count(flag, value, 0)));
        else return fail("unknown option '" + flag + "'");
    }
    if (options.dir.empty()) return fail("--dir: must not be empty");
    if (options.ingest_socket.empty()) return fail("--ingest: must not be empty");
    if (options.rotation.keep > 1000) return fail("--keep: at most 1000");
    return options;
}

}  // namespace berth::logd
