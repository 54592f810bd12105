#include "berth/supervisor/log_ring.hpp"

#include <algorithm>

namespace berth::supervisor {

const char* log_stream_name(LogStream stream) { return stream == LogStream::Stdout ? "stdout" : "stderr"; }

LogRing::LogRing(std::size_t budget_bytes, std::size_t max_line_bytes)
    : budget_bytes_(std::max(budget_bytes, kRecordOverheadBytes + 1)),
      max_line_bytes_(std::clamp<std::size_t>(max_line_bytes, 1, budget_bytes_ - kRecordOverheadBytes)) {}

void LogRing::append(LogStream stream, std::string_view data, WallTime time) {
    std::string& pending = pending_lines_[index(stream)];
    bool& cut_at_cap = cut_at_cap_[index(stream)];
    std::size_t at = 0;
    // The newline that ends a line already cut at the cap would otherwise add an empty record.
    if (cut_at_cap && !data.empty() && data.front() == '\n') at = 1;
    if (!data.empty()) cut_at_cap = false;
    while (at < data.size()) {
        const std::size_t newline = data.find('\n', at);
        const std::size_t line_end = newline == std::string_view::npos ? data.size() : newline;
        const std::size_t take = std::min(line_end - at, max_line_bytes_ - pending.size());
        pending.append(data.substr(at, take));
        at += take;
        if (at == newline) {  // a complete line
            ++at;
            if (!pending.empty() && pending.back() == '\r') pending.pop_back();
            push(stream, std::move(pending), time);
            pending.clear();
        } else if (pending.size() == max_line_bytes_) {  // too long: cut here, the rest follows
            push(stream, std::move(pending), time);
            pending.clear();
            cut_at_cap = at == data.size();  // (a newline right here would have ended the line above)
        }
    }
}

void LogRing::flush(WallTime time) {
    for (LogStream stream : {LogStream::Stdout, LogStream::Stderr}) {
        cut_at_cap_[index(stream)] = false;
        std::string& pending = pending_lines_[index(stream)];
        if (pending.empty()) continue;
        push(stream, std::move(pending), time);
        pending.clear();
    }
}

void LogRing::push(LogStream stream, std::string line, WallTime time) {
    bytes_used_ += line.size() + kRecordOverheadBytes;
    records_.push_back(LogRecord{next_seq_++, time, stream, std::move(line)});
    while (bytes_used_ > budget_bytes_) {
        bytes_used_ -= records_.front().line.size() + kRecordOverheadBytes;
        records_.pop_front();
        ++dropped_;
    }
}

std::vector<LogRecord> LogRing::lines(std::size_t count, std::optional<WallTime> since) const {
    std::vector<LogRecord> newest_first;
    for (auto it = records_.rbegin(); it != records_.rend() && newest_first.size() < count; ++it)
        if (!since || it->time >= *since) newest_first.push_back(*it);
    return {newest_first.rbegin(), newest_first.rend()};
}

std::vector<LogRecord> LogRing::after(std::uint64_t after_seq, std::size_t max_records) const {
    std::vector<LogRecord> found;
    // Sequence numbers are dense within the ring: index straight to the first wanted record.
    const std::uint64_t first = first_seq();
    std::size_t index = after_seq < first ? 0 : static_cast<std::size_t>(after_seq - first + 1);
    for (; index < records_.size() && found.size() < max_records; ++index) found.push_back(records_[index]);
    return found;
}

}  // namespace berth::supervisor
