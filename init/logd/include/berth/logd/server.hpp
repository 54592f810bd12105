// logd's main loop: epoll over the ingest socket and its connections, /dev/kmsg, the syslog socket
// and a signalfd. Never writes to a client, so a slow one cannot block it; reads are budgeted per
// wakeup so a busy one cannot starve the others. Flushes the touched files once per wakeup.
#pragma once

#include "berth/logd/options.hpp"
#include "berth/result.hpp"

namespace berth::logd {

// Listens, sends READY=1, serves until SIGTERM/SIGINT, drains what is queued, flushes, returns.
Result<void> run_server(const Options& options);

}  // namespace berth::logd
