// The per-service log ring: line splitting, the partial-line cap, the byte budget, follow by seq.
#include <catch2/catch.hpp>

#include "berth/supervisor/log_ring.hpp"

using namespace berth::supervisor;
using namespace std::chrono_literals;

namespace {

const WallTime kT0 = WallTime{} + 1'700'000'000s;

std::vector<std::string> texts(const std::vector<LogRecord>& records) {
    std::vector<std::string> lines;
    for (const auto& record : records) lines.push_back(record.line);
    return lines;
}

std::vector<std::uint64_t> seqs(const std::vector<LogRecord>& records) {
    std::vector<std::uint64_t> numbers;
    for (const auto& record : records) numbers.push_back(record.seq);
    return numbers;
}

}  // namespace

TEST_CASE("writes are split into lines, a partial line waits for its newline", "[logring]") {
    LogRing ring;
    ring.append(LogStream::Stdout, "one\ntwo\nthr", kT0);
    CHECK(texts(ring.lines()) == std::vector<std::string>{"one", "two"});
    ring.append(LogStream::Stdout, "ee\n\nfour\r\n", kT0 + 1s);
    CHECK(texts(ring.lines()) == std::vector<std::string>{"one", "two", "three", "", "four"});
    CHECK(seqs(ring.lines()) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    CHECK(ring.lines().back().time == kT0 + 1s);  // the time the line was completed
    CHECK(ring.last_seq() == 5);
}

TEST_CASE("stdout and stderr keep separate partial lines", "[logring]") {
    LogRing ring;
    ring.append(LogStream::Stdout, "out-", kT0);
    ring.append(LogStream::Stderr, "err-", kT0);
    ring.append(LogStream::Stderr, "line\n", kT0);
    ring.append(LogStream::Stdout, "line\n", kT0);
    auto records = ring.lines();
    REQUIRE(records.size() == 2);
    CHECK(records[0].line == "err-line");
    CHECK(records[0].stream == LogStream::Stderr);
    CHECK(records[1].line == "out-line");
    CHECK(records[1].stream == LogStream::Stdout);
}

TEST_CASE("a line without a newline is cut at max_line_bytes", "[logring]") {
    LogRing ring(4096, 8);
    ring.append(LogStream::Stdout, "0123456789abcdefXYZ", kT0);
    CHECK(texts(ring.lines()) == std::vector<std::string>{"01234567", "89abcdef"});
    ring.append(LogStream::Stdout, "\n", kT0);
    CHECK(texts(ring.lines()) == std::vector<std::string>{"01234567", "89abcdef", "XYZ"});

    // A line of exactly the cap, its newline in the next write: no empty record.
    ring.append(LogStream::Stdout, "ABCDEFGH", kT0);
    ring.append(LogStream::Stdout, "\nnext\n", kT0);
    CHECK(texts(ring.lines(2)) == std::vector<std::string>{"ABCDEFGH", "next"});

    // ...and with the newline in the same write.
    ring.append(LogStream::Stdout, "IJKLMNOP\nlast\n", kT0);
    CHECK(texts(ring.lines(2)) == std::vector<std::string>{"IJKLMNOP", "last"});

    // A long stream of bytes without newlines never holds more than the cap pending.
    LogRing flood(4096, 16);
    for (int i = 0; i < 100; ++i) flood.append(LogStream::Stderr, std::string(10, 'x'), kT0);
    CHECK(flood.last_seq() == 62);  // 1000 bytes / 16, the remaining 8 still pending
    flood.flush(kT0);
    CHECK(flood.lines(1)[0].line == std::string(8, 'x'));
}

TEST_CASE("flush turns pending partial lines into records", "[logring]") {
    LogRing ring;
    ring.append(LogStream::Stdout, "no newline", kT0);
    CHECK(ring.size() == 0);
    ring.flush(kT0 + 2s);
    REQUIRE(ring.size() == 1);
    CHECK(ring.lines()[0].line == "no newline");
    CHECK(ring.lines()[0].time == kT0 + 2s);
    ring.flush(kT0 + 3s);
    CHECK(ring.size() == 1);
}

TEST_CASE("the ring stays within its byte budget by dropping the oldest records", "[logring]") {
    // Each 8-byte line costs 8 + 32 overhead = 40 bytes: 5 fit in 200.
    LogRing ring(200, 64);
    for (int i = 1; i <= 7; ++i) ring.append(LogStream::Stdout, "line-00" + std::to_string(i) + "\n", kT0);
    CHECK(ring.size() == 5);
    CHECK(ring.dropped() == 2);
    CHECK(ring.bytes_used() == 200);
    CHECK(ring.first_seq() == 3);
    CHECK(ring.last_seq() == 7);
    CHECK(texts(ring.lines(1)) == std::vector<std::string>{"line-007"});

    // Empty lines are not free either.
    for (int i = 0; i < 1000; ++i) ring.append(LogStream::Stdout, "\n", kT0);
    CHECK(ring.bytes_used() <= ring.budget_bytes());
    CHECK(ring.size() == 200 / 32);

    // A line is never longer than what fits in the budget.
    LogRing tiny(64, 4096);
    CHECK(tiny.max_line_bytes() == 64 - LogRing::kRecordOverheadBytes);
    tiny.append(LogStream::Stdout, std::string(100, 'y') + "\n", kT0);
    CHECK(tiny.bytes_used() <= 64);
    CHECK(tiny.lines().back().line == "yyyy");  // 100 = 32 + 32 + 32 + 4
}

TEST_CASE("lines(n, since) returns the newest n records at or after since", "[logring]") {
    LogRing ring;
    for (int i = 0; i < 10; ++i) ring.append(LogStream::Stdout, std::to_string(i) + "\n", kT0 + std::chrono::seconds(i));
    CHECK(texts(ring.lines(3)) == std::vector<std::string>{"7", "8", "9"});
    CHECK(texts(ring.lines(LogRing::kAll, kT0 + 8s)) == std::vector<std::string>{"8", "9"});
    CHECK(texts(ring.lines(1, kT0 + 5s)) == std::vector<std::string>{"9"});
    CHECK(ring.lines(5, kT0 + 1h).empty());
    CHECK(ring.lines(100).size() == 10);
}

TEST_CASE("a follower asks for the records after the last seq it saw", "[logring]") {
    LogRing ring(200, 64);  // 5 records of 8 bytes
    for (int i = 1; i <= 3; ++i) ring.append(LogStream::Stdout, "line-00" + std::to_string(i) + "\n", kT0);
    std::uint64_t seen = 0;
    auto batch = ring.after(seen);
    CHECK(seqs(batch) == std::vector<std::uint64_t>{1, 2, 3});
    seen = batch.back().seq;
    CHECK(ring.after(seen).empty());

    ring.append(LogStream::Stdout, "line-004\n", kT0);
    CHECK(seqs(ring.after(seen)) == std::vector<std::uint64_t>{4});
    CHECK(seqs(ring.after(seen, 0)).empty());

    // The follower was slow: 1..4 fell out; it sees a gap (first seq 7 > seen + 1).
    for (int i = 5; i <= 11; ++i) ring.append(LogStream::Stdout, "line-0" + std::to_string(10 + i) + "\n", kT0);
    batch = ring.after(seen);
    CHECK(seqs(batch) == std::vector<std::uint64_t>{7, 8, 9, 10, 11});
    CHECK(seqs(ring.after(8, 2)) == std::vector<std::uint64_t>{9, 10});
    CHECK(ring.after(11).empty());
    CHECK(ring.after(1000).empty());
}
