// What PID 1 does when it cannot go on normally. Its death would panic the kernel and take every
// service with it, so it never simply exits: it says why on the console and in the kernel log,
// and stays up reaping, as tini does.
#pragma once

namespace berth::pid1 {

// As PID 1: an exception that escapes (or any std::terminate) is written to the console and
// /dev/kmsg first; then, on a machine, PID 1 goes on as a plain reaper. Elsewhere it aborts.
void install_terminate_handler(bool machine);

// Reaps every child that ends, forever (services left running go on, unsupervised).
[[noreturn]] void reap_forever();

}  // namespace berth::pid1
