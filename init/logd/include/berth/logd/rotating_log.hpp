// An append-only log file rotated by size, like logrotate's `size` rule:
// <dir>/<name>.log → <name>.log.1 → ... → <name>.log.<keep>, the oldest deleted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/result.hpp"
#include "berth/sys.hpp"

namespace berth::logd {

struct RotationPolicy {
    std::uint64_t max_bytes = 1024 * 1024;  // a file never grows past this, except by one oversized line
    unsigned keep = 5;                      // rotated files kept besides the current one
};

class RotatingLog {
public:
    // Opens (creating) <dir>/<name>.log and continues after what it holds: restarts don't rotate.
    static Result<RotatingLog> open(const std::string& dir, const std::string& name, RotationPolicy policy);

    // Queues one line ('\n' included); first rotates if the file would exceed max_bytes.
    // Nothing reaches the file until flush(), except when rotating.
    Result<void> append(std::string_view line);

    // Writes the queued lines and fdatasync()s: called once per batch of records, not per line.
    // On failure the queued lines are dropped, so a full disk cannot grow memory.
    Result<void> flush();

    std::uint64_t size() const { return written_ + pending_.size(); }  // current file, queued included
    std::string path() const { return dir_ + "/" + name_ + ".log"; }

private:
    RotatingLog(std::string dir, std::string name, RotationPolicy policy)
        : dir_(std::move(dir)), name_(std::move(name)), policy_(policy) {}
    Result<void> open_current();
    Result<void> rotate();

    std::string dir_;
    std::string name_;
    RotationPolicy policy_;
    sys::UniqueFd dir_fd_;
    sys::UniqueFd file_;
    std::uint64_t written_ = 0;  // bytes in the current file
    std::string pending_;
};

}  // namespace berth::logd
