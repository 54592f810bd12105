// Process-wide logging for the binaries: to stderr by default, or to a file in
// text or JSON lines (runc's format, which podman and conmon read back).
#pragma once

#include <string>
#include <string_view>

namespace berth::log {

enum class Level { Debug, Info, Warning, Error };
enum class Format { Text, Json };

// path empty: stderr. Returns false (and keeps stderr) when the file cannot be opened.
bool configure(const std::string& path, Format format, bool debug);
void write(Level level, std::string_view message);
// On the machine's console: prefix lines with the time since boot, as the kernel does
// ("[    2.345678] berth: ..."), so that one log shows the whole boot on one clock.
void use_boot_clock(bool on);

inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warning(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

// JSON string escaping, shared with other hand-written JSON lines.
std::string json_escape(std::string_view text);

}  // namespace berth::log
