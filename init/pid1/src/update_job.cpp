#include "update_job.hpp"

#include <sys/wait.h>

#include "berth/signals.hpp"

namespace berth::pid1 {

namespace control = supervisor::control;

namespace {
// A line of the job's output longer than this is cut: the job is ours, but PID 1 bounds everything.
constexpr size_t kMaxLine = 64 * 1024;

// json::value() throws on a key of another type; PID 1 does not throw.
bool is_true(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}
}  // namespace

std::vector<std::string> UpdateJob::arguments(const control::UpdateRequest& request) {
    std::vector<std::string> args{request.action};
    if (request.allow_downgrade) args.push_back("--allow-downgrade");
    if (request.force) args.push_back("--force");
    if (request.stream) args.push_back("--stream");
    if (!request.pause_at.empty()) args.insert(args.end(), {"--pause-at", request.pause_at});
    return args;
}

Result<UpdateJob> UpdateJob::start(const std::vector<std::string>& program, const control::UpdateRequest& request,
                                   uint64_t client, sys::UniqueFd bundle) {
    std::vector<std::string> argv = program;
    for (auto& a : arguments(request)) argv.push_back(std::move(a));
    auto task = TRY_CTX(start_program(argv, bundle.get()), "start " + program.front());
    return UpdateJob(std::move(task), request, client);
}

Result<void> UpdateJob::read(const std::function<void(const std::string&)>& progress) {
    auto closed = task_.read_available();
    partial_ += task_.take_received();
    for (size_t nl; (nl = partial_.find('\n')) != std::string::npos;) {
        std::string line = partial_.substr(0, std::min(nl, kMaxLine)) + "\n";
        partial_.erase(0, nl + 1);
        // No exceptions: a line that is not JSON is parsed as "discarded", and kept as the answer
        // (which then reports the job's failure).
        auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (parsed.is_object() && parsed.contains("progress")) progress(line);
        else answer_ = std::move(line);
    }
    if (partial_.size() > kMaxLine) partial_.clear();
    if (!closed) return fail(closed.error());
    output_closed_ = *closed;
    return {};
}

void UpdateJob::reaped(int status) {
    status_ = status;
    task_.reaped();
}

std::pair<std::string, bool> UpdateJob::answer() const {
    bool exited_ok = status_ && WIFEXITED(*status_) && WEXITSTATUS(*status_) == 0;
    if (!answer_.empty()) {
        auto parsed = nlohmann::json::parse(answer_, nullptr, false);
        if (!parsed.is_object()) return {control::error_response("the update job answered: " + answer_.substr(0, 200)), false};
        return {answer_, exited_ok && is_true(parsed, "ok") && is_true(parsed, "done")};
    }
    std::string how = !status_ ? "for an unknown reason"
                      : WIFSIGNALED(*status_) ? "by signal " + signal_name(WTERMSIG(*status_))
                                              : "with exit code " + std::to_string(WEXITSTATUS(*status_));
    return {control::error_response("the update job ended " + how + " without an answer"), false};
}

}  // namespace berth::pid1
