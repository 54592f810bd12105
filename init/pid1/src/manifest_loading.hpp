// Manifests are parsed in short-lived child processes, never in PID 1 itself: TOML parsing's code
// and memory stay out of PID 1's resident set, and whatever input crashes or stalls a parser
// (nesting deep enough to exhaust the stack, a huge list) takes down only the child. What crashed
// a child is never retried in PID 1; only a child that cannot start at all means parsing here.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "berth/manifest/manifest.hpp"
#include "berth/pid1/child_process.hpp"
#include "berth/result.hpp"

namespace berth::pid1 {

// The services of the manifest directories in start order, and what failed to load.
struct LoadedManifests {
    std::vector<manifest::ServiceManifest> services;
    std::vector<manifest::Diagnostic> errors;
    std::string order_error;  // start_order() refused the set
};

// Parses every directory here (in the child).
LoadedManifests load_manifests_here(const std::vector<std::string>& dirs);

// The boot's manifests: the preload's answer when it parsed these directories, else a fresh
// child's. A child that failed is reported as an invalid set (never re-parsed in PID 1).
struct ManifestPreload;
LoadedManifests load_manifests(const std::vector<std::string>& dirs, ManifestPreload* preload);

// One manifest for `berthctl add`, read (from a path the client named) and parsed, checked
// against its image; or why not.
struct ManifestCheck {
    std::optional<manifest::ServiceManifest> manifest;
    std::string text;   // what was parsed: written to the runtime services directory when added
    std::string error;  // set when manifest is not
};

// The largest manifest file `berthctl add` takes (the control protocol's line limit bounds the
// inline form the same way).
inline constexpr size_t kMaxAddedManifestBytes = 1024 * 1024;

// Reads a manifest file a client named: only a regular file (a FIFO, a device or /proc/self/fd/N
// of a pipe would block or never end), opened non-blocking, at most kMaxAddedManifestBytes.
Result<std::string> read_client_manifest(const std::string& path);

// What the add-check child does. `text` is the inline manifest, or empty to read `path`.
ManifestCheck check_manifest_here(const std::string& text, const std::string& path, const std::string& name_for_path,
                                  const manifest::SpecContext& context);

// The check in a child process; its answer arrives on the task's pipe (read it as it comes, the
// loop does not wait) and decodes with decode_manifest_check.
Result<ChildTask> start_manifest_check(const std::string& text, const std::string& path, const std::string& file_name,
                                       const manifest::SpecContext& context);
Result<ManifestCheck> decode_manifest_check(const std::string& answer);

}  // namespace berth::pid1
