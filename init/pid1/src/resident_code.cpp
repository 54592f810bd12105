#include "resident_code.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/sys.hpp"

namespace berth::pid1 {
namespace {

struct Mapping {
    uintptr_t start = 0, end = 0;
    bool candidate = false;  // read-only, private, our program file
    bool clean = false;      // Anonymous: 0 kB
};

std::optional<uintptr_t> hex(std::string_view text) {
    uintptr_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// "00200000-002b3000 r--p 00000000 fe:02 71424   /usr/bin/berth"
std::optional<Mapping> mapping_line(std::string_view line, std::string_view exe) {
    size_t dash = line.find('-'), space = line.find(' ');
    if (dash == std::string_view::npos || space == std::string_view::npos || dash > space || line.size() < space + 5)
        return std::nullopt;
    auto start = hex(line.substr(0, dash)), end = hex(line.substr(dash + 1, space - dash - 1));
    if (!start || !end) return std::nullopt;
    std::string_view perms = line.substr(space + 1, 4);
    size_t path = line.find('/');
    bool ours = path != std::string_view::npos && line.substr(path) == exe;
    return Mapping{*start, *end, ours && perms[1] == '-' && perms[3] == 'p', false};
}

void drop(const Mapping& m, size_t& dropped) {
    if (!m.candidate || !m.clean || m.end <= m.start) return;
    if (::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0) dropped += (m.end - m.start) / 1024;
}

}  // namespace

size_t drop_idle_code() {
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    auto smaps = sys::read_file("/proc/self/smaps");
    if (!smaps) return 0;
    std::string_view exe_path(exe, static_cast<size_t>(n));
    size_t dropped = 0;
    Mapping current;
    std::string_view rest = *smaps;
    while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (line.starts_with("Anonymous:")) {
            current.clean = line.find_first_of("123456789") == std::string_view::npos;  // "Anonymous:   0 kB"
        } else if (auto m = mapping_line(line, exe_path)) {
            drop(current, dropped);
            current = *m;
        }
    }
    drop(current, dropped);
    return dropped;
}

}  // namespace berth::pid1
