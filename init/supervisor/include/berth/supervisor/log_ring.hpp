// A service's recent output in memory: timestamped lines, bounded by bytes, oldest dropped first.
// Sequence numbers only grow, so `berthctl logs -f` asks for "records after seq X" and can tell
// from a gap (first seq > X + 1) that it fell behind and records were dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/supervisor/clock.hpp"

namespace berth::supervisor {

enum class LogStream { Stdout, Stderr };
const char* log_stream_name(LogStream stream);  // "stdout", "stderr"

struct LogRecord {
    std::uint64_t seq = 0;  // 1, 2, 3, ... per ring
    WallTime time{};        // when the line was completed
    LogStream stream = LogStream::Stdout;
    std::string line;       // without the newline (and without a trailing '\r')
};

class LogRing {
public:
    static constexpr std::size_t kDefaultBudgetBytes = 64 * 1024;
    static constexpr std::size_t kDefaultMaxLineBytes = 4096;
    // Charged per record on top of its text, so a flood of empty lines is bounded too.
    static constexpr std::size_t kRecordOverheadBytes = 32;
    static constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

    // A line longer than max_line_bytes is split into records of that size; max_line_bytes is
    // clamped so one record always fits the budget.
    explicit LogRing(std::size_t budget_bytes = kDefaultBudgetBytes, std::size_t max_line_bytes = kDefaultMaxLineBytes);

    // Data as read from the service's pipe: any number of lines, the last one possibly partial
    // (kept per stream until its newline, or until it reaches max_line_bytes).
    void append(LogStream stream, std::string_view data, WallTime time);
    // Turns pending partial lines into records (the process exited without a final newline).
    void flush(WallTime time);

    // The last `count` records with time >= since, oldest first.
    std::vector<LogRecord> lines(std::size_t count = kAll, std::optional<WallTime> since = std::nullopt) const;
    // Records with seq > after_seq, oldest first, at most max_records: for followers.
    std::vector<LogRecord> after(std::uint64_t after_seq, std::size_t max_records = kAll) const;

    std::uint64_t last_seq() const { return next_seq_ - 1; }  // 0 before the first record
    std::uint64_t first_seq() const { return records_.empty() ? next_seq_ : records_.front().seq; }
    std::uint64_t dropped() const { return dropped_; }  // records evicted to stay within budget
    std::size_t bytes_used() const { return bytes_used_; }
    std::size_t size() const { return records_.size(); }
    std::size_t budget_bytes() const { return budget_bytes_; }
    std::size_t max_line_bytes() const { return max_line_bytes_; }

private:
    void push(LogStream stream, std::string line, WallTime time);
    static std::size_t index(LogStream stream) { return stream == LogStream::Stdout ? 0 : 1; }

    std::size_t budget_bytes_;
    std::size_t max_line_bytes_;
    std::deque<LogRecord> records_;
    std::string pending_lines_[2];  // per stream: a line still waiting for its newline
    bool cut_at_cap_[2] = {false, false};  // per stream: the last record was cut at max_line_bytes
    std::uint64_t next_seq_ = 1;
    std::uint64_t dropped_ = 0;
    std::size_t bytes_used_ = 0;
};

}  // namespace berth::supervisor
