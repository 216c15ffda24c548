#include "core/model/cpu_kernels.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

#ifdef ARC_HAVE_CBLAS
#include <cblas.h>
#endif

// The element-wise kernels are compiled for AVX-512, AVX2 and the baseline, picked at load time
// (GCC function multiversioning): the build targets plain x86-64, whose 4-wide SSE2 left SwiGLU and
// the softmax loops at a quarter of the machine's vector width.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ARC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ARC_VECTOR_CLONES
#endif

namespace arc::cpu {

#ifdef ARC_HAVE_CBLAS
const bool kHaveBlas = true;

void Gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void Linear(int64_t n, int64_t out, int64_t in, float alpha, const float* x, const float* w,
            float beta, float* y) {
  if (n == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(out), static_cast<int>(in), alpha, w,
                static_cast<int>(in), x, 1, beta, y, 1);
  } else {
    Gemm(false, true, n, out, in, alpha, x, in, w, in, beta, y, out);
  }
}
#else
const bool kHaveBlas = false;

void Gemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
          int64_t, float, float*, int64_t) {
  TORCH_CHECK(false, "direct CPU path: built without a BLAS (cblas.h)");
}

void Linear(int64_t, int64_t, int64_t, float, const float*, const float*, float, float*) {
  TORCH_CHECK(false, "direct CPU path: built without a BLAS (cblas.h)");
}
#endif

ARC_VECTOR_CLONES void RmsNorm(const float* x, int64_t n, int64_t c, const float* weight,
                               double eps, float* out, float* inv) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * c;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < c; ++j) sum += static_cast<double>(xi[j]) * xi[j];
    const float r = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(c) + eps));
    if (inv != nullptr) inv[i] = r;
    float* oi = out + i * c;
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) oi[j] = weight[j] * (xi[j] * r);
  }
}

ARC_VECTOR_CLONES void RmsNormBackward(const float* x, const float* inv, int64_t n, int64_t c,
                                       const float* weight, const float* dout, float* dx) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * c;
    const float* gi = dout + i * c;
    float* di = dx + i * c;
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < c; ++j) dot += static_cast<double>(weight[j] * gi[j]) * xi[j];
    const float r = inv[i];
    const float k = static_cast<float>(dot * r * r * r / static_cast<double>(c));
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) di[j] += r * weight[j] * gi[j] - xi[j] * k;
  }
}

ARC_VECTOR_CLONES float Softmax(float* p, int64_t n) {
  float top = p[0];
#pragma omp simd reduction(max : top)
  for (int64_t j = 1; j < n; ++j) top = std::max(top, p[j]);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    p[j] = Exp(p[j] - top);
    sum += p[j];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) p[j] *= inv;
  return top + std::log(sum);
}

ARC_VECTOR_CLONES void Swiglu(const float* gate, const float* up, int64_t n, float* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float z = gate[i];
    out[i] = z / (1.0f + Exp(-z)) * up[i];
  }
}

ARC_VECTOR_CLONES void SwigluBackward(const float* gate, const float* up, int64_t n,
                                      float* dout_then_dup, float* dgate) {
  // out = z s u with s = sigmoid(z): d(up) = d(out) z s, d(gate) = d(out) u s (1 + z (1 - s)).
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float z = gate[i], s = 1.0f / (1.0f + Exp(-z)), d = dout_then_dup[i];
    dout_then_dup[i] = d * z * s;
    dgate[i] = d * up[i] * s * (1.0f + z * (1.0f - s));
  }
}

ARC_VECTOR_CLONES void AttentionGradientRow(float* p, float* dp, int64_t visible, float lse,
                                            float dot) {
#pragma omp simd
  for (int64_t j = 0; j < visible; ++j) {
    p[j] = Exp(p[j] - lse);
    dp[j] = p[j] * (dp[j] - dot);
  }
}

ARC_VECTOR_CLONES void Rope(float* x, int64_t n, int64_t heads, int64_t d, const int64_t* position,
                            const float* cos, const float* sin, bool inverse) {
  const int64_t half = d / 2;
  const float sign = inverse ? -1.0f : 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float* c = cos + position[i] * half;
    const float* s = sin + position[i] * half;
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (i * heads + h) * d;
      for (int64_t j = 0; j < half; ++j) {
        const float x1 = v[j], x2 = v[j + half], sj = sign * s[j];
        v[j] = x1 * c[j] - x2 * sj;
        v[j + half] = x2 * c[j] + x1 * sj;
      }
    }
  }
}

}  // namespace arc::cpu
