#include "tools/flags/heap.h"

#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace arc {
namespace {

#ifdef __GLIBC__
// Blocks over glibc's mmap threshold normally get their own mapping (counted in hblks); after
// KeepFreedMemory they come from the heap, and freeing them does not shrink it.
TEST(HeapTest, LargeBlocksComeFromTheHeapAndStayMapped) {
  const size_t big = size_t{64} << 20;
  void* before = std::malloc(big);
  ASSERT_NE(before, nullptr);
  std::memset(before, 1, big);
  EXPECT_EQ(mallinfo2().hblks, 1u) << "glibc default: a 64 MB block is its own mapping";
  std::free(before);
  EXPECT_EQ(mallinfo2().hblks, 0u);

  ASSERT_TRUE(KeepFreedMemory());
  void* after = std::malloc(big);
  ASSERT_NE(after, nullptr);
  std::memset(after, 1, big);
  EXPECT_EQ(mallinfo2().hblks, 0u) << "served from the heap";
  const size_t arena = mallinfo2().arena;
  EXPECT_GE(arena, big);
  std::free(after);
  EXPECT_EQ(mallinfo2().arena, arena) << "the heap was trimmed after free";

  // Between tasks the kept memory goes back to the OS on request.
  EXPECT_TRUE(ReleaseFreedMemory());
  EXPECT_LE(mallinfo2().arena + big, arena) << "the 64 MB block is still part of the heap";
}
#else
TEST(HeapTest, NoOpWithoutGlibc) {
  EXPECT_FALSE(KeepFreedMemory());
  EXPECT_FALSE(ReleaseFreedMemory());
}
#endif

}  // namespace
}  // namespace arc
