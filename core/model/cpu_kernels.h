// Float32 kernels on raw row-major buffers, shared by the direct CPU paths of the Llama decoder:
// CpuDecoder (core/model/cpu_decoder.h, decoding) and CpuLoraTrainer (core/model/cpu_trainer.h,
// the LoRA training step). Internal to core/model; not part of the public API.
//
// Matrix products go to the system BLAS (cblas_sgemm/sgemv; ARC_HAVE_CBLAS). Built without one,
// kHaveBlas is false, the direct paths report themselves unsupported and these functions throw.
// Everything else is plain loops. Numerics follow the libtorch modules of core/model/llama.h
// (RMSNorm in float32 with its sum of squares in double, the same rotary tables).
#ifndef ARC_CORE_MODEL_CPU_KERNELS_H_
#define ARC_CORE_MODEL_CPU_KERNELS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace arc::cpu {

extern const bool kHaveBlas;

// Row-major c (m, n) = alpha * op(a) op(b) + beta * c, where op(a) is (m, k) (a stored (k, m) when
// transpose_a) and op(b) is (k, n) (b stored (n, k) when transpose_b).
void Gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);

// y (n, out) = alpha * x (n, in) w^T + beta * y for row-major w (out, in); one row goes through
// sgemv, which skips the packing a matrix product does.
void Linear(int64_t n, int64_t out, int64_t in, float alpha, const float* x, const float* w,
            float beta, float* y);

// out = weight * x / sqrt(mean(x^2) + eps) for n rows of width c. When inv is not null, inv[i]
// receives row i's 1 / sqrt(mean(x^2) + eps) (what the backward needs).
void RmsNorm(const float* x, int64_t n, int64_t c, const float* weight, double eps, float* out,
             float* inv = nullptr);

// dx += the gradient through RmsNorm of dout, given the forward's x and inv:
// dx_j = inv * (w_j dout_j) - x_j * inv^3 / c * sum_k(w_k dout_k x_k).
void RmsNormBackward(const float* x, const float* inv, int64_t n, int64_t c, const float* weight,
                     const float* dout, float* dx);

// p[0, n) = softmax(p[0, n)) in place (vectorised; float sums). Returns the log of the
// normaliser, max + log(sum exp(p - max)), for a backward that recomputes the probabilities.
float Softmax(float* p, int64_t n);

// out[i] = silu(gate[i]) * up[i] with silu(z) = z / (1 + exp(-z)); out may alias gate or up.
void Swiglu(const float* gate, const float* up, int64_t n, float* out);

// The gradient through Swiglu: given d(out) in `dout_then_dup` and the forward's gate and up,
// writes d(up) over it and d(gate) into dgate.
void SwigluBackward(const float* gate, const float* up, int64_t n, float* dout_then_dup,
                    float* dgate);

// One query row of the attention backward from its recomputed scores p[0, visible) (scaled q.k),
// the row's log-sum-exp and dot = dO . O: p becomes the probabilities exp(p - lse) and dp (given as
// dO V^T) the score gradient p * (dp - dot).
void AttentionGradientRow(float* p, float* dp, int64_t visible, float lse, float dot);

// Rotates x (n tokens x heads x d, row stride heads * d) in place with the tables' row of each
// token's position (Hugging Face rotate_half convention; cos and sin (positions, d/2)). inverse:
// the transposed rotation, which carries a gradient back through the forward rotation.
void Rope(float* x, int64_t n, int64_t heads, int64_t d, const int64_t* position, const float* cos,
          const float* sin, bool inverse = false);

// exp(x) within 1 ulp of std::exp for x in [-87.3, 88.3] (measured over that range; clamped to
// it outside) in plain arithmetic that a compiler vectorises: Cody-Waite reduction x = n ln2 + r,
// Cephes's degree-6 polynomial for exp(r), 2^n through the exponent bits. libm's expf is a call per
// element, which dominated SwiGLU and softmax loops. Loops vectorise it only without
// -ftrapping-math (the float to int conversion after a select), which the files of the direct paths
// are compiled with.
inline float Exp(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.3f ? 88.3f : x;
  // Round to nearest by truncating t +- 0.5 (a conversion every SIMD level has; floor is not).
  const float t = x * 1.44269504088896341f;
  const int32_t n = static_cast<int32_t>(t + (t < 0 ? -0.5f : 0.5f));
  const float nf = static_cast<float>(n);
  const float r = x - nf * 0.693359375f - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;  // 2^n, n in [-126, 127]
  float two_n;
  std::memcpy(&two_n, &bits, sizeof(two_n));
  return p * two_n;
}

// Grows `buffer` to at least `size` elements (never shrinks: work buffers reused across calls).
template <typename T>
void Grow(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(size);
}

}  // namespace arc::cpu

#endif  // ARC_CORE_MODEL_CPU_KERNELS_H_
