// libFuzzer target: arbitrary bytes as the host config, which PID 1 reads at boot from fw_cfg,
// the ESP or the state partition. parse_host_config must return a Result for anything (never
// throw, never crash); what parses must also render netd's files. Run with run_fuzzer.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "berth/manifest/host_config.hpp"
#include "berth/paths.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace berth::manifest;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto config = parse_host_config(text, berth::paths::kHostConfig);
    if (!config) return 0;
    (void)static_network_file(*config);
    (void)dns_file(*config);
    return 0;
}
