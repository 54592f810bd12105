// Users and groups from an image's own /etc/passwd and /etc/group: a container's user is
// resolved against the files in its image, never against the host (no NSS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"

namespace berth::manifest {

struct PasswdEntry {
    std::string name;
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string home;
};

struct GroupEntry {
    std::string name;
    uint32_t gid = 0;
    std::vector<std::string> members;
};

// Line parsers; comments, blank and malformed lines are skipped, as glibc does.
std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

// "1000" → 1000; nullopt for anything that is not a plain decimal uint32.
std::optional<uint32_t> parse_id(std::string_view text);

struct ResolvedUser {
    uint32_t uid = 0;
    uint32_t gid = 0;                       // primary group from passwd (0 if not listed)
    std::vector<uint32_t> additional_gids;  // groups in /etc/group listing the user as a member
    std::string home = "/";
};

// Resolves `user` (name or uid; empty: root) inside `image_root`. A numeric uid missing
// from passwd is allowed (gid 0, home "/"), as Docker does.
// Error: "unknown user 'www' (not in /images/app/etc/passwd)".
Result<ResolvedUser> resolve_user(const std::string& image_root, const std::string& user);
// Resolves `group` (name or gid). Error: "unknown group 'web' (not in /images/app/etc/group)".
Result<uint32_t> resolve_group(const std::string& image_root, const std::string& group);

}  // namespace berth::manifest
