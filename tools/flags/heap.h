// Process-wide heap tuning for the model binaries (arc-train, arc-solve, arc-server).
#ifndef ARC_TOOLS_FLAGS_HEAP_H_
#define ARC_TOOLS_FLAGS_HEAP_H_

namespace arc {

// Keeps freed memory in the heap instead of returning it to the OS (glibc only; elsewhere a no-op
// that returns false). glibc serves blocks above 32 MB with fresh mmaps and unmaps them on free; the
// attention scores of one training or TTT step are such blocks, so without this every step
// page-faults and zeroes them again (a third of arc-train's CPU time, 40% of a TTT run's). The price:
// the process keeps its peak heap size until it exits. Call once, early, before any threads start.
bool KeepFreedMemory();

// Returns the heap's free pages to the OS (glibc malloc_trim: the top of the heap and every free
// page inside it); false where unsupported or nothing was released. With KeepFreedMemory the heap
// otherwise keeps the largest size any earlier task needed (e.g. the program search's states) for
// the rest of the process; calling this between tasks makes each task's footprint its own. Costs
// one pass over the free lists, and page faults when the next task reuses the memory.
bool ReleaseFreedMemory();

}  // namespace arc

#endif  // ARC_TOOLS_FLAGS_HEAP_H_
