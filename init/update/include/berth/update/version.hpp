// Version strings ordered the way systemd-boot orders its entries (the UAPI group's Version Format
// Specification): an update is an upgrade exactly when the boot loader will prefer its entry.
#pragma once

#include <string_view>

namespace berth::update {

// < 0 when a is older than b, 0 when equal, > 0 when newer. "0.2" > "0.1.9" (numbers compare as
// numbers), "1.0~rc1" < "1.0" ('~' sorts before everything, even the end), "1.0^p1" > "1.0",
// "1.0.1" > "1.0" (more components is newer), "1.0-2" < "1.0.1" ('-' separates the release).
int compare_versions(std::string_view a, std::string_view b);

// Characters a Berth version may hold: letters, digits and . ~ ^ - + _ (at most 64 of them, the
// first a digit). Anything else would sort unpredictably or break the boot entry it is written to.
bool is_valid_version(std::string_view version);

}  // namespace berth::update
