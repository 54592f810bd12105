// Reading the small text files manifests refer to (manifests, passwd, group, seccomp
// profiles) without ever blocking on a FIFO or swallowing /dev/zero.
#pragma once

#include <cstddef>
#include <string>

#include "berth/result.hpp"

namespace berth::manifest {

inline constexpr size_t kMaxConfigFileBytes = 4 << 20;

enum class FinalSymlink { Follow, Refuse };

// Reads a regular file of at most `max_bytes`; errors name the path and keep errno.
// Refuse: the last component must not be a symlink (for paths already resolved inside an
// image, where a leftover symlink could only lead back out to the host).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes = kMaxConfigFileBytes,
                                    FinalSymlink final_symlink = FinalSymlink::Follow);

}  // namespace berth::manifest
