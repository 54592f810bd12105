#include "berth/manifest/users.hpp"

#include <algorithm>

#include "berth/parse_integer.hpp"
#include "berth/runtime/mounts.hpp"
#include "small_file.hpp"

namespace berth::manifest {
namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        out.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

template <typename Entry, typename ParseLine>
std::vector<Entry> parse_lines(std::string_view text, ParseLine parse_line) {
    std::vector<Entry> out;
    for (std::string_view line : split(text, '\n')) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        if (auto entry = parse_line(split(line, ':'))) out.push_back(std::move(*entry));
    }
    return out;
}

// The image's file, resolved inside the image so a symlink cannot point at the host's.
std::string image_file(const std::string& image_root, const char* path) {
    return runtime::mounts::secure_join(image_root, path);
}

// Missing file: no entries (a numeric user still works); any other read error fails.
Result<std::string> read_optional(const std::string& path) {
    auto text = read_small_file(path, kMaxConfigFileBytes, FinalSymlink::Refuse);
    if (!text && text.error().errnum == ENOENT) return std::string();
    return text;
}

}  // namespace

std::optional<uint32_t> parse_id(std::string_view text) {
    return parse_integer<uint32_t>(text);
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
    // name:password:uid:gid:gecos:home:shell
    return parse_lines<PasswdEntry>(text, [](const std::vector<std::string_view>& f) -> std::optional<PasswdEntry> {
        if (f.size() < 4 || f[0].empty()) return std::nullopt;
        auto uid = parse_id(f[2]);
        auto gid = parse_id(f[3]);
        if (!uid || !gid) return std::nullopt;
        std::string home = f.size() > 5 && !f[5].empty() ? std::string(f[5]) : "/";
        return PasswdEntry{std::string(f[0]), *uid, *gid, home};
    });
}

std::vector<GroupEntry> parse_group(std::string_view text) {
    // name:password:gid:member,member
    return parse_lines<GroupEntry>(text, [](const std::vector<std::string_view>& f) -> std::optional<GroupEntry> {
        if (f.size() < 3 || f[0].empty()) return std::nullopt;
        auto gid = parse_id(f[2]);
        if (!gid) return std::nullopt;
        GroupEntry entry{std::string(f[0]), *gid, {}};
        if (f.size() > 3 && !f[3].empty())
            for (std::string_view member : split(f[3], ',')) entry.members.emplace_back(member);
        return entry;
    });
}

Result<ResolvedUser> resolve_user(const std::string& image_root, const std::string& user) {
    const std::string passwd_path = image_file(image_root, "/etc/passwd");
    auto passwd = parse_passwd(TRY(read_optional(passwd_path)));
    const std::string wanted = user.empty() ? "0" : user;
    std::optional<uint32_t> uid = parse_id(wanted);
    auto entry = std::find_if(passwd.begin(), passwd.end(),
                              [&](const PasswdEntry& e) { return uid ? e.uid == *uid : e.name == wanted; });
    ResolvedUser out;
    if (entry == passwd.end()) {
        if (!uid) return fail("unknown user '" + user + "' (not in " + passwd_path + ")");
        out.uid = *uid;
        return out;
    }
    out.uid = entry->uid;
    out.gid = entry->gid;
    out.home = entry->home;
    auto groups = parse_group(TRY(read_optional(image_file(image_root, "/etc/group"))));
    for (const auto& g : groups) {
        bool member = std::find(g.members.begin(), g.members.end(), entry->name) != g.members.end();
        bool listed = std::find(out.additional_gids.begin(), out.additional_gids.end(), g.gid) != out.additional_gids.end();
        if (member && g.gid != out.gid && !listed) out.additional_gids.push_back(g.gid);
    }
    return out;
}

Result<uint32_t> resolve_group(const std::string& image_root, const std::string& group) {
    if (auto gid = parse_id(group)) return *gid;
    const std::string group_path = image_file(image_root, "/etc/group");
    auto groups = parse_group(TRY(read_optional(group_path)));
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) { return g.name == group; });
    if (it == groups.end()) return fail("unknown group '" + group + "' (not in " + group_path + ")");
    return it->gid;
}

}  // namespace berth::manifest
