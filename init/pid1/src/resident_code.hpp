// PID 1 lives as long as the machine, so what stays mapped in it is memory the machine never gets
// back. Code it ran once (the machine's preparation, the boot's manifests, the first launches)
// stays resident because its pages are still mapped. Once a burst of work is over, the mappings
// of its own program file that hold no private data are dropped (MADV_DONTNEED): the pages stay in
// the page cache, reclaimable like any unmapped file page, and what PID 1 runs next comes back at
// the cost of a minor fault. Its resident set is then the code it actually runs while idle.
#pragma once

#include <cstddef>

namespace berth::pid1 {

// Returns the KiB unmapped. Only read-only, private mappings of /proc/self/exe whose pages are
// all clean file pages (smaps' Anonymous: 0 kB) are touched: a page written since it was mapped
// (the GOT under RELRO) would be lost, so such a mapping is left as it is.
size_t drop_idle_code();

}  // namespace berth::pid1
