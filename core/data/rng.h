// Rng: the project's one source of randomness.
//
// A seeded generator that produces the same stream on every platform and standard library: the
// engine is xoshiro256** seeded through SplitMix64, and every derived draw (bounded integers, doubles,
// shuffles) is computed here by fixed arithmetic. std::uniform_int_distribution and friends are never
// used, because their output differs between libstdc++, libc++ and MSVC.
//
// Not thread-safe: each thread or job owns its own Rng (use Fork to derive independent streams).
#ifndef ARC_CORE_DATA_RNG_H_
#define ARC_CORE_DATA_RNG_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace arc {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // The next raw 64-bit value.
  uint64_t Next();

  // Uniform integer in [0, n), unbiased (rejection sampling). n must be > 0.
  uint64_t Below(uint64_t n);

  // Uniform integer in [lo, hi] (both inclusive). Requires lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);

  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble();

  // Fisher-Yates shuffle, from the back, drawing Below(i + 1) for i = n-1 .. 1.
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(Below(i));
      std::swap(v[i - 1], v[j]);
    }
  }

  // A random permutation of 0..n-1 (a shuffled iota).
  std::vector<int> Permutation(int n);

  // An independent generator derived from this one's seed and `stream`; does not advance this one.
  Rng Fork(uint64_t stream) const;

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

}  // namespace arc

#endif  // ARC_CORE_DATA_RNG_H_
