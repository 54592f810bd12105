#include "berth/runtime/capabilities.hpp"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "berth/sys.hpp"

namespace berth::runtime::caps {

namespace {

bool contains(const std::vector<int>& caps, int cap) { return std::find(caps.begin(), caps.end(), cap) != caps.end(); }

}  // namespace

Result<int> from_name(std::string_view name) {
    std::string text(name);
    auto unknown = [&] { return fail("unknown capability '" + text + "'"); };
    // libcap also takes numbers and stops at a comma ("CAP_CHOWN,X"), so accept only a
    // name that maps back to itself.
    if (text.size() <= 4 || text.compare(0, 4, "CAP_") != 0) return unknown();
    cap_value_t value;
    if (cap_from_name(text.c_str(), &value) != 0 || value < 0 || value > 63) return unknown();
    if (to_name(value) != text) return unknown();
    return static_cast<int>(value);
}

std::string to_name(int cap) {
    char* raw = cap_to_name(static_cast<cap_value_t>(cap));
    std::string name = raw ? raw : "";
    cap_free(raw);
    // libcap answers "cap_chown" for known caps and the bare number for unknown ones.
    if (name.rfind("cap_", 0) != 0) return "CAP_" + std::to_string(cap);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    return name;
}

int last_cap() {
    // Cached: container init may call this after pivot_root, where /proc can differ or be absent.
    static const int cached = [] {
        int value = -1;
        if (auto text = sys::read_file("/proc/sys/kernel/cap_last_cap"))
            std::from_chars(text->data(), text->data() + text->size(), value);
        // Unreadable (no /proc): libcap probes the kernel's bounding set instead.
        return value >= 0 ? value : static_cast<int>(cap_max_bits()) - 1;
    }();
    return cached;
}

uint64_t to_mask(const std::vector<int>& caps) {
    uint64_t mask = 0;
    for (int cap : caps)
        if (cap >= 0 && cap < 64) mask |= uint64_t{1} << cap;
    return mask;
}

std::vector<int> from_mask(uint64_t mask) {
    std::vector<int> caps;
    for (int cap = 0; cap < 64; ++cap)
        if (mask & (uint64_t{1} << cap)) caps.push_back(cap);
    return caps;
}

std::vector<int> all() {
    std::vector<int> caps;
    for (int cap = 0; cap <= last_cap(); ++cap) caps.push_back(cap);
    return caps;
}

std::vector<int> docker_default() {
    return {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,     CAP_MKNOD,
            CAP_NET_RAW, CAP_SETGID,      CAP_SETUID,           CAP_SETFCAP,    CAP_SETPCAP,
            CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,     CAP_AUDIT_WRITE};
}

Result<void> drop_bounding(const std::vector<int>& keep) {
    for (int cap = 0; cap <= last_cap(); ++cap) {
        if (contains(keep, cap)) continue;
        // Skip caps already gone, so a process without CAP_SETPCAP can still "drop" them.
        if (cap_get_bound(static_cast<cap_value_t>(cap)) == 0) continue;
        if (cap_drop_bound(static_cast<cap_value_t>(cap)) != 0)
            return fail_sys("drop " + to_name(cap) + " from the bounding set");
    }
    return {};
}

Result<void> apply(const CapabilitySets& sets) {
    cap_t state = cap_init();
    if (!state) return fail_sys("allocate capability state");
    auto add = [&](cap_flag_t flag, const std::vector<int>& caps) {
        for (int cap : caps) {
            if (cap < 0 || cap > last_cap()) continue;  // unknown to this kernel: skipped, as runc does
            cap_value_t value = cap;
            cap_set_flag(state, flag, 1, &value, CAP_SET);  // cannot fail for a valid cap and flag
        }
    };
    add(CAP_EFFECTIVE, sets.effective);
    add(CAP_PERMITTED, sets.permitted);
    add(CAP_INHERITABLE, sets.inheritable);
    int rc = cap_set_proc(state);
    int saved_errno = errno;
    cap_free(state);
    if (rc != 0) return fail_errno(saved_errno, "set effective, permitted and inheritable capabilities");

    // Kernels without ambient support (< 4.3) fail the reset; that only matters if some are asked.
    if (cap_reset_ambient() != 0 && !sets.ambient.empty()) return fail_sys("clear the ambient capability set");
    for (int cap : sets.ambient) {
        if (cap < 0 || cap > last_cap()) continue;
        if (cap_set_ambient(static_cast<cap_value_t>(cap), CAP_SET) != 0)
            return fail_sys("raise ambient " + to_name(cap) + " (it must also be permitted and inheritable)");
    }
    return {};
}

}  // namespace berth::runtime::caps
