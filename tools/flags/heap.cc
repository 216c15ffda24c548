#include "tools/flags/heap.h"

#include <limits>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace arc {

bool KeepFreedMemory() {
#ifdef __GLIBC__
  // No mmap-served blocks at all (so nothing is unmapped on free), and never trim the heap top.
  const bool mmap_ok = mallopt(M_MMAP_MAX, 0) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1;
  return mmap_ok && trim_ok;
#else
  return false;
#endif
}

bool ReleaseFreedMemory() {
#ifdef __GLIBC__
  return malloc_trim(0) == 1;
#else
  return false;
#endif
}

}  // namespace arc
