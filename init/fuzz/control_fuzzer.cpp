// libFuzzer target: arbitrary bytes as control-socket request lines, answered by the real request
// handler (control protocol parsing, the Supervisor's user requests) against a fake process
// table. Every line must get exactly one well-formed response line; nothing may throw or crash.
// Run with init/fuzz/run_fuzzer.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    berth::pid1::testing::FakeMachine machine;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (!input.empty()) {
        size_t nl = input.find('\n');
        std::string_view line = input.substr(0, nl);
        input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
        std::string response = machine.handle(line);
        // One line, a JSON object with a boolean "ok".
        if (response.empty() || response.back() != '\n' || response.find('\n') != response.size() - 1) std::abort();
        auto parsed = nlohmann::json::parse(response, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object() || !parsed["ok"].is_boolean()) std::abort();
    }
    return 0;
}
