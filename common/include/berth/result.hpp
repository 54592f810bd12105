// The one way Berth's libraries fail: a Result<T> holding either a value or an
// Error that keeps errno and a human-readable context chain ("mount '/proc': ...").
#pragma once

#include <cerrno>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace berth {

// strerror(errnum) without its translation machinery (gettext), which would otherwise become part
// of every program that reports an error, PID 1 included.
std::string error_text(int errnum);

struct Error {
    int errnum = 0;       // errno when the failure came from the kernel, 0 otherwise
    std::string message;  // outermost context first, e.g. "create 'c1': mount '/proc': ..."

    // Full text for users: the context chain plus strerror(errnum) when set.
    std::string describe() const;

    // Prepends context, keeping errno: err.wrap("mount '/proc'").
    Error wrap(std::string context) const&;
    Error wrap(std::string context) &&;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(std::string message) { return tl::unexpected<Error>(Error{0, std::move(message)}); }
inline tl::unexpected<Error> fail_errno(int errnum, std::string message) {
    return tl::unexpected<Error>(Error{errnum, std::move(message)});
}
// Fails with the current errno; call right after the syscall that set it.
inline tl::unexpected<Error> fail_sys(std::string message) { return fail_errno(errno, std::move(message)); }
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

namespace detail {
// tl::expected<void>::value() is not callable on rvalues; TRY goes through these instead.
template <typename T>
T unwrap(tl::expected<T, Error>&& result) { return std::move(*result); }
inline void unwrap(tl::expected<void, Error>&&) {}
}  // namespace detail

}  // namespace berth

// Propagates an error, else yields the value (GCC/Clang statement expression).
#define TRY(expr)                                                              \
    ({                                                                         \
        auto&& berth_try_result_ = (expr);                                     \
        if (!berth_try_result_) return ::berth::fail(std::move(berth_try_result_).error()); \
        ::berth::detail::unwrap(std::move(berth_try_result_));                                  \
    })

// Like TRY, but adds context to the error on the way up.
#define TRY_CTX(expr, context)                                                 \
    ({                                                                         \
        auto&& berth_try_result_ = (expr);                                     \
        if (!berth_try_result_) return ::berth::fail(std::move(berth_try_result_).error().wrap(context)); \
        ::berth::detail::unwrap(std::move(berth_try_result_));                                  \
    })
