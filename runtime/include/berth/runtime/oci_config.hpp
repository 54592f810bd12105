// config.json (OCI runtime-spec) ⇄ ContainerSpec. Parsing validates everything the
// executor relies on; each error names the JSON field ("linux.namespaces[2].type: ...").
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "berth/result.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime {

// Parses config.json text. `bundle` resolves a relative root.path.
Result<ContainerSpec> parse_config(const std::string& json_text, const std::string& bundle);
// Reads <bundle>/config.json; errors start with the file's path.
Result<ContainerSpec> load_bundle_config(const std::string& bundle);

// Parses a process.json (`berth exec --process`): the "process" object alone.
Result<Process> parse_process(const std::string& json_text);

nlohmann::ordered_json spec_to_json(const ContainerSpec& spec);
nlohmann::ordered_json process_to_json(const Process& process);

// "RLIMIT_NOFILE" → RLIMIT_NOFILE
Result<int> rlimit_from_name(const std::string& name);

}  // namespace berth::runtime
