// libFuzzer target: arbitrary bytes as a service manifest. parse_manifest must return a
// Result for anything (never throw, never crash); whatever parses must also plan and order
// without crashing. Run with init/fuzz/run_fuzzer.sh.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "berth/manifest/manifest.hpp"
#include "berth/paths.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace berth::manifest;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto manifest = parse_manifest(text, std::string(berth::paths::kServices) + "/fuzz.toml");
    if (!manifest) return 0;
    SpecContext context;
    context.images_root = "/nonexistent/berth-fuzz-images";  // user names fail cleanly
    (void)to_container_spec(*manifest, context);
    (void)start_order({*manifest, *manifest});  // duplicate: the error path
    (void)start_order({*manifest});
    return 0;
}
