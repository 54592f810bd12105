// The few Unix-socket operations logd needs, as Results.
#pragma once

#include <string>
#include <string_view>

#include "berth/result.hpp"
#include "berth/sys.hpp"

namespace berth::logd {

// A non-blocking socket of `type` bound at path (a stale socket file is replaced), chmod'ed to
// mode, listening when the type is connection-oriented.
Result<sys::UniqueFd> listen_unix(const std::string& path, int type, unsigned mode);

// sd_notify: one datagram to $NOTIFY_SOCKET ("@name" = abstract). No-op when it is unset.
Result<void> sd_notify(std::string_view state);

}  // namespace berth::logd
