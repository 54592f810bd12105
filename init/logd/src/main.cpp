// logd: writes berth-init's forwarded records, the kernel log and syslog to rotated files.
#include <cstdio>

#include "berth/log.hpp"
#include "berth/logd/options.hpp"
#include "berth/logd/server.hpp"

int logd_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::puts(berth::logd::kUsage);
        return 0;
    }
    auto options = berth::logd::parse_options(args);
    if (!options) {
        std::fprintf(stderr, "logd: %s\n%s\n", options.error().describe().c_str(), berth::logd::kUsage);
        return 2;
    }
    if (auto served = berth::logd::run_server(*options); !served) {
        berth::log::error("logd: " + served.error().describe());
        return 1;
    }
    return 0;
}
