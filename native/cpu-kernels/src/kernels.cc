// Multithreaded SIMD kernels for the heavy ops of CNN training (NHWC, float32), called by
// tfkd-studio's wasm backend on tensors that live in the wasm heap: the heap's ArrayBuffer is passed
// in with byte offsets, so no tensor is copied in or out. Every call is synchronous (the JS thread
// waits); inside it the work is split over a persistent thread pool.
//
// All three convolution passes reduce to one GEMM, C[M x N] (+)= A[M x K] * B[K x N], row-major:
//   forward:          Y[P x Co]     = im2col(X)[P x KKC]   * W[KKC x Co]
//   input gradient:   dXcol[P x KKC] = dY[P x Co]          * W^T[Co x KKC], then col2im (scatter-add)
//   filter gradient:  dW[KKC x Co]  = im2col(X)^T[KKC x P] * dY[P x Co]
// with P output pixels and KKC = kh*kw*Ci, processed in tiles of pixels that stay in cache.

#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace tfkd {
namespace {

// ---------------------------------------------------------------------------------------------
// Thread pool: run(f) calls f(t) for t in [0, n) on n threads (the caller is thread 0). An exception
// thrown by f on any thread (std::bad_alloc from a scratch buffer, say) is carried back to the
// caller of Run and rethrown there, so the N-API boundary can turn it into a JS error: one escaping
// a worker's thread function would call std::terminate and take the whole process down.
class Pool {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    try {
      for (int i = 1; i < n_; i++) workers_.emplace_back([this, i] { Loop(i); });
    } catch (...) {
      Stop();  // joins the threads already started (destroying a joinable std::thread terminates)
      throw;
    }
  }
  ~Pool() { Stop(); }
  int size() const { return n_; }
  void Run(const std::function<void(int)>& f) {
    if (n_ == 1) {
      f(0);
      return;
    }
    {
      std::lock_guard<std::mutex> l(m_);
      job_ = &f;
      pending_ = n_ - 1;
      error_ = nullptr;
      generation_++;
    }
    cv_.notify_all();
    std::exception_ptr mine;
    try {
      f(0);
    } catch (...) {
      mine = std::current_exception();
    }
    std::unique_lock<std::mutex> l(m_);
    done_.wait(l, [this] { return pending_ == 0; });
    job_ = nullptr;
    if (!mine) mine = error_;
    error_ = nullptr;
    if (mine) std::rethrow_exception(mine);
  }

 private:
  void Stop() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void Loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      std::exception_ptr err;
      try {
        (*job)(index);
      } catch (...) {
        err = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> l(m_);
        if (err && !error_) error_ = err;
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)>* job_ = nullptr;
  std::exception_ptr error_;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Pool* g_pool = nullptr;

Pool& pool() {
  if (!g_pool) g_pool = new Pool(DefaultThreads());
  return *g_pool;
}

// Splits [0, count) into one contiguous range per thread; small work stays on the caller.
void ParallelFor(int64_t count, int64_t min_per_thread, const std::function<void(int64_t, int64_t, int)>& f) {
  Pool& p = pool();
  int64_t threads = std::min<int64_t>(p.size(), std::max<int64_t>(1, count / std::max<int64_t>(1, min_per_thread)));
  if (threads <= 1) {
    f(0, count, 0);
    return;
  }
  p.Run([&](int t) {
    if (t >= threads) return;
    int64_t begin = count * t / threads, end = count * (t + 1) / threads;
    if (begin < end) f(begin, end, t);
  });
}

// ---------------------------------------------------------------------------------------------
// GEMM micro-kernels on GCC/Clang vector extensions: the compiler emits AVX-512, AVX2+FMA or SSE
// per clone (target_clones, x86-64 Linux) or NEON (arm64).
typedef float v16 __attribute__((vector_size(64)));

inline v16 Load(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }

#if defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define TFKD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TFKD_CLONES
#endif

// C[M x N] = (accumulate ? C : 0) + A[M x K] * B[K x N]; leading dimensions lda, ldb, ldc.
TFKD_CLONES
void Gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc, bool accumulate) {
  int n0 = 0;
  for (; n0 + 32 <= N; n0 += 32) {
    int m = 0;
    for (; m + 4 <= M; m += 4) {
      v16 c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {}, c30 = {}, c31 = {};
      const float* a0 = A + (int64_t)m * lda;
      const float* a1 = a0 + lda;
      const float* a2 = a1 + lda;
      const float* a3 = a2 + lda;
      for (int k = 0; k < K; k++) {
        const float* b = B + (int64_t)k * ldb + n0;
        v16 b0 = Load(b), b1 = Load(b + 16);
        float x0 = a0[k], x1 = a1[k], x2 = a2[k], x3 = a3[k];
        c00 += x0 * b0;
        c01 += x0 * b1;
        c10 += x1 * b0;
        c11 += x1 * b1;
        c20 += x2 * b0;
        c21 += x2 * b1;
        c30 += x3 * b0;
        c31 += x3 * b1;
      }
      float* c = C + (int64_t)m * ldc + n0;
      if (accumulate) {
        c00 += Load(c), c01 += Load(c + 16);
        c10 += Load(c + ldc), c11 += Load(c + ldc + 16);
        c20 += Load(c + 2 * ldc), c21 += Load(c + 2 * ldc + 16);
        c30 += Load(c + 3 * ldc), c31 += Load(c + 3 * ldc + 16);
      }
      Store(c, c00), Store(c + 16, c01);
      Store(c + ldc, c10), Store(c + ldc + 16, c11);
      Store(c + 2 * ldc, c20), Store(c + 2 * ldc + 16, c21);
      Store(c + 3 * ldc, c30), Store(c + 3 * ldc + 16, c31);
    }
    for (; m < M; m++) {
      v16 c0 = {}, c1 = {};
      const float* a = A + (int64_t)m * lda;
      for (int k = 0; k < K; k++) {
        const float* b = B + (int64_t)k * ldb + n0;
        c0 += a[k] * Load(b);
        c1 += a[k] * Load(b + 16);
      }
      float* c = C + (int64_t)m * ldc + n0;
      if (accumulate) c0 += Load(c), c1 += Load(c + 16);
      Store(c, c0), Store(c + 16, c1);
    }
  }
  for (; n0 + 16 <= N; n0 += 16) {
    int m = 0;
    for (; m + 4 <= M; m += 4) {
      v16 c0 = {}, c1 = {}, c2 = {}, c3 = {};
      const float* a0 = A + (int64_t)m * lda;
      const float* a1 = a0 + lda;
      const float* a2 = a1 + lda;
      const float* a3 = a2 + lda;
      for (int k = 0; k < K; k++) {
        v16 b = Load(B + (int64_t)k * ldb + n0);
        c0 += a0[k] * b;
        c1 += a1[k] * b;
        c2 += a2[k] * b;
        c3 += a3[k] * b;
      }
      float* c = C + (int64_t)m * ldc + n0;
      if (accumulate) c0 += Load(c), c1 += Load(c + ldc), c2 += Load(c + 2 * ldc), c3 += Load(c + 3 * ldc);
      Store(c, c0), Store(c + ldc, c1), Store(c + 2 * ldc, c2), Store(c + 3 * ldc, c3);
    }
    for (; m < M; m++) {
      v16 c0 = {};
      const float* a = A + (int64_t)m * lda;
      for (int k = 0; k < K; k++) c0 += a[k] * Load(B + (int64_t)k * ldb + n0);
      float* c = C + (int64_t)m * ldc + n0;
      if (accumulate) c0 += Load(c);
      Store(c, c0);
    }
  }
  if (n0 < N) {
    // Narrow remainder (< 16 columns): scalar, vectorised by the compiler where it can.
    for (int m = 0; m < M; m++) {
      const float* a = A + (int64_t)m * lda;
      float* c = C + (int64_t)m * ldc;
      float acc[16];
      for (int j = n0; j < N; j++) acc[j - n0] = accumulate ? c[j] : 0.f;
      for (int k = 0; k < K; k++) {
        const float* b = B + (int64_t)k * ldb;
        float x = a[k];
        for (int j = n0; j < N; j++) acc[j - n0] += x * b[j];
      }
      for (int j = n0; j < N; j++) c[j] = acc[j - n0];
    }
  }
}

// ---------------------------------------------------------------------------------------------
constexpr int kTile = 64;  // output pixels per tile: a tile's im2col rows stay in L1/L2

// Writes the im2col rows of pixels [p0, p0 + T) (row-major [T x KKC]).
void Im2col(const ConvDims& d, const float* x, int64_t p0, int T, float* col) {
  const int64_t kkc = d.kkc();
  for (int t = 0; t < T; t++) {
    int64_t p = p0 + t;
    int n = static_cast<int>(p / ((int64_t)d.Ho * d.Wo));
    int rem = static_cast<int>(p % ((int64_t)d.Ho * d.Wo));
    int oh = rem / d.Wo, ow = rem % d.Wo;
    float* row = col + t * kkc;
    for (int i = 0; i < d.kh; i++) {
      int ih = oh * d.sh - d.pt + i * d.dh;
      for (int j = 0; j < d.kw; j++) {
        int iw = ow * d.sw - d.pl + j * d.dw;
        float* dst = row + ((int64_t)i * d.kw + j) * d.Ci;
        if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) {
          for (int c = 0; c < d.Ci; c++) dst[c] = 0.f;
        } else {
          const float* src = x + (((int64_t)n * d.H + ih) * d.W + iw) * d.Ci;
          if (d.Ci >= 16)
            std::memcpy(dst, src, sizeof(float) * d.Ci);
          else
            for (int c = 0; c < d.Ci; c++) dst[c] = src[c];
        }
      }
    }
  }
}

// Transposed im2col [KKC x T] (leading dimension T); unused since the filter gradient multiplies
// dY^T by the plain im2col, kept for reference.
[[maybe_unused]] void Im2colT(const ConvDims& d, const float* x, int64_t p0, int T, float* colT) {
  for (int t = 0; t < T; t++) {
    int64_t p = p0 + t;
    int n = static_cast<int>(p / ((int64_t)d.Ho * d.Wo));
    int rem = static_cast<int>(p % ((int64_t)d.Ho * d.Wo));
    int oh = rem / d.Wo, ow = rem % d.Wo;
    for (int i = 0; i < d.kh; i++) {
      int ih = oh * d.sh - d.pt + i * d.dh;
      for (int j = 0; j < d.kw; j++) {
        int iw = ow * d.sw - d.pl + j * d.dw;
        int64_t base = ((int64_t)i * d.kw + j) * d.Ci;
        if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) {
          for (int c = 0; c < d.Ci; c++) colT[(base + c) * T + t] = 0.f;
        } else {
          const float* src = x + (((int64_t)n * d.H + ih) * d.W + iw) * d.Ci;
          for (int c = 0; c < d.Ci; c++) colT[(base + c) * T + t] = src[c];
        }
      }
    }
  }
}

void Epilogue(float* y, int64_t rows, int Co, const float* bias, int act) {
  for (int64_t r = 0; r < rows; r++) {
    float* row = y + r * Co;
    if (bias)
      for (int c = 0; c < Co; c++) row[c] += bias[c];
    if (act == kRelu)
      for (int c = 0; c < Co; c++) row[c] = row[c] > 0.f ? row[c] : 0.f;
    else if (act == kRelu6)
      for (int c = 0; c < Co; c++) row[c] = std::min(6.f, std::max(0.f, row[c]));
  }
}

void Conv2D(const ConvDims& d, const float* x, const float* w, const float* bias, float* y, int act) {
  const int64_t P = (int64_t)d.N * d.Ho * d.Wo;
  const int64_t kkc = d.kkc();
  const int64_t tiles = (P + kTile - 1) / kTile;
  ParallelFor(tiles, 2, [&](int64_t t0, int64_t t1, int) {
    std::vector<float> col(d.pointwise() ? 0 : kTile * kkc);
    for (int64_t t = t0; t < t1; t++) {
      int64_t p0 = t * kTile;
      int T = static_cast<int>(std::min<int64_t>(kTile, P - p0));
      const float* A;
      if (d.pointwise()) {
        A = x + p0 * d.Ci;
      } else {
        Im2col(d, x, p0, T, col.data());
        A = col.data();
      }
      Gemm(T, d.Co, static_cast<int>(kkc), A, static_cast<int>(kkc), w, d.Co, y + p0 * d.Co, d.Co, false);
      Epilogue(y + p0 * d.Co, T, d.Co, bias, act);
    }
  });
}

void Conv2DBackpropInput(const ConvDims& d, const float* dy, const float* w, float* dx) {
  const int64_t kkc = d.kkc();
  // W^T: [Co x KKC]
  std::vector<float> wt(kkc * d.Co);
  for (int64_t r = 0; r < kkc; r++)
    for (int c = 0; c < d.Co; c++) wt[(int64_t)c * kkc + r] = w[r * d.Co + c];
  const int64_t imagePixels = (int64_t)d.Ho * d.Wo;
  // One image per task: col2im scatters only within its own image, so threads never collide.
  ParallelFor(d.N, 1, [&](int64_t n0, int64_t n1, int) {
    std::vector<float> col(kTile * kkc);
    for (int64_t n = n0; n < n1; n++) {
      float* dxn = dx + n * d.H * d.W * d.Ci;
      if (d.pointwise()) {
        Gemm(static_cast<int>(imagePixels), d.Ci, d.Co, dy + n * imagePixels * d.Co, d.Co, wt.data(), d.Ci, dxn,
             d.Ci, false);
        continue;
      }
      std::memset(dxn, 0, sizeof(float) * d.H * d.W * d.Ci);
      for (int64_t q0 = 0; q0 < imagePixels; q0 += kTile) {
        int T = static_cast<int>(std::min<int64_t>(kTile, imagePixels - q0));
        Gemm(T, static_cast<int>(kkc), d.Co, dy + (n * imagePixels + q0) * d.Co, d.Co, wt.data(),
             static_cast<int>(kkc), col.data(), static_cast<int>(kkc), false);
        for (int t = 0; t < T; t++) {
          int q = static_cast<int>(q0 + t);
          int oh = q / d.Wo, ow = q % d.Wo;
          const float* row = col.data() + (int64_t)t * kkc;
          for (int i = 0; i < d.kh; i++) {
            int ih = oh * d.sh - d.pt + i * d.dh;
            if (ih < 0 || ih >= d.H) continue;
            for (int j = 0; j < d.kw; j++) {
              int iw = ow * d.sw - d.pl + j * d.dw;
              if (iw < 0 || iw >= d.W) continue;
              float* dst = dxn + ((int64_t)ih * d.W + iw) * d.Ci;
              const float* src = row + ((int64_t)i * d.kw + j) * d.Ci;
              for (int c = 0; c < d.Ci; c++) dst[c] += src[c];
            }
          }
        }
      }
    }
  });
}

// Filter gradient as dW^T[Co x KKC] += dY^T[Co x T] * im2col(X)[T x KKC] per tile of T pixels: the
// GEMM's wide dimension is KKC (144..576 here) rather than Co (16..64), which keeps the 32-column
// micro-kernel busy, and the im2col rows are contiguous copies (no transposed scatter). The small dY
// tile is transposed instead; per-thread partial sums are transposed back into dW at the end.
constexpr int kFilterTile = 128;

void Conv2DBackpropFilter(const ConvDims& d, const float* x, const float* dy, float* dw) {
  const int64_t P = (int64_t)d.N * d.Ho * d.Wo;
  const int64_t kkc = d.kkc();
  const int64_t tiles = (P + kFilterTile - 1) / kFilterTile;
  const int threads = pool().size();
  std::vector<std::vector<float>> partial(threads);
  ParallelFor(tiles, 2, [&](int64_t t0, int64_t t1, int tid) {
    std::vector<float>& acc = partial[tid];
    acc.assign(kkc * d.Co, 0.f);
    std::vector<float> col(d.pointwise() ? 0 : kFilterTile * kkc);
    std::vector<float> dyT((int64_t)d.Co * kFilterTile);
    for (int64_t t = t0; t < t1; t++) {
      int64_t p0 = t * kFilterTile;
      int T = static_cast<int>(std::min<int64_t>(kFilterTile, P - p0));
      const float* B;
      if (d.pointwise()) {
        B = x + p0 * d.Ci;
      } else {
        Im2col(d, x, p0, T, col.data());
        B = col.data();
      }
      const float* g = dy + p0 * d.Co;
      for (int i = 0; i < T; i++)
        for (int c = 0; c < d.Co; c++) dyT[(int64_t)c * T + i] = g[(int64_t)i * d.Co + c];
      Gemm(d.Co, static_cast<int>(kkc), T, dyT.data(), T, B, static_cast<int>(kkc), acc.data(),
           static_cast<int>(kkc), true);
    }
  });
  std::memset(dw, 0, sizeof(float) * kkc * d.Co);
  for (auto& acc : partial) {
    if (acc.empty()) continue;
    for (int c = 0; c < d.Co; c++) {
      const float* src = acc.data() + (int64_t)c * kkc;
      for (int64_t r = 0; r < kkc; r++) dw[r * d.Co + c] += src[r];
    }
  }
}

// Gradient of max pooling: each output's gradient goes to the first maximum of its window (the
// reference CPU backend's rule), recomputed from the input. Channels are innermost, so the arg-max
// and the writes vectorise; non-overlapping windows (stride = window, no padding: the usual 2x2/2
// pool) write every input element exactly once instead of clearing and scattering.
void MaxPoolGrad(const PoolDims& d, const float* dy, const float* x, float* dx) {
  const bool tiled = d.sh == d.kh && d.sw == d.kw && d.pt == 0 && d.pl == 0;
  const int64_t imageSize = (int64_t)d.H * d.W * d.C;
  ParallelFor(d.N, 1, [&](int64_t n0, int64_t n1, int) {
    std::vector<int32_t> arg(d.C);
    std::vector<float> best(d.C);
    for (int64_t n = n0; n < n1; n++) {
      const float* xn = x + n * imageSize;
      float* dxn = dx + n * imageSize;
      // Rows/columns no window covers (floor rounding) get zero gradient.
      if (!tiled || d.Ho * d.sh != d.H || d.Wo * d.sw != d.W) std::memset(dxn, 0, sizeof(float) * imageSize);
      for (int oh = 0; oh < d.Ho; oh++)
        for (int ow = 0; ow < d.Wo; ow++) {
          float* bp = best.data();
          int32_t* ap = arg.data();
          for (int c = 0; c < d.C; c++) bp[c] = -INFINITY, ap[c] = -1;
          for (int i = 0; i < d.kh; i++) {
            int ih = oh * d.sh - d.pt + i;
            if (ih < 0 || ih >= d.H) continue;
            for (int j = 0; j < d.kw; j++) {
              int iw = ow * d.sw - d.pl + j;
              if (iw < 0 || iw >= d.W) continue;
              const float* xp = xn + ((int64_t)ih * d.W + iw) * d.C;
              const int32_t e = i * d.kw + j;
              for (int c = 0; c < d.C; c++) {
                bool gt = xp[c] > bp[c];
                bp[c] = gt ? xp[c] : bp[c];
                ap[c] = gt ? e : ap[c];
              }
            }
          }
          const float* g = dy + ((n * d.Ho + oh) * (int64_t)d.Wo + ow) * d.C;
          for (int i = 0; i < d.kh; i++) {
            int ih = oh * d.sh - d.pt + i;
            if (ih < 0 || ih >= d.H) continue;
            for (int j = 0; j < d.kw; j++) {
              int iw = ow * d.sw - d.pl + j;
              if (iw < 0 || iw >= d.W) continue;
              float* dp = dxn + ((int64_t)ih * d.W + iw) * d.C;
              const int32_t e = i * d.kw + j;
              if (tiled)
                for (int c = 0; c < d.C; c++) dp[c] = ap[c] == e ? g[c] : 0.f;
              else
                for (int c = 0; c < d.C; c++) dp[c] += ap[c] == e ? g[c] : 0.f;
            }
          }
        }
    }
  });
}

// Depthwise convolution gradients (channel multiplier M; filter [kh, kw, C, M]; dy [N, Ho, Wo, C*M]).
void DepthwiseBackpropInput(const DepthwiseDims& d, const float* dy, const float* w, float* dx) {
  const int64_t imageSize = (int64_t)d.H * d.W * d.C;
  const int CM = d.C * d.M;
  ParallelFor(d.N, 1, [&](int64_t n0, int64_t n1, int) {
    std::vector<float> g(d.C);
    for (int64_t n = n0; n < n1; n++) {
      float* dxn = dx + n * imageSize;
      std::memset(dxn, 0, sizeof(float) * imageSize);
      for (int oh = 0; oh < d.Ho; oh++)
        for (int ow = 0; ow < d.Wo; ow++) {
          const float* dyp = dy + ((n * d.Ho + oh) * (int64_t)d.Wo + ow) * CM;
          for (int i = 0; i < d.kh; i++) {
            int ih = oh * d.sh - d.pt + i * d.dh;
            if (ih < 0 || ih >= d.H) continue;
            for (int j = 0; j < d.kw; j++) {
              int iw = ow * d.sw - d.pl + j * d.dw;
              if (iw < 0 || iw >= d.W) continue;
              float* dst = dxn + ((int64_t)ih * d.W + iw) * d.C;
              const float* wk = w + ((int64_t)i * d.kw + j) * CM;
              if (d.M == 1) {
                for (int c = 0; c < d.C; c++) dst[c] += dyp[c] * wk[c];
              } else {
                for (int c = 0; c < d.C; c++) {
                  float acc = 0.f;
                  for (int m = 0; m < d.M; m++) acc += dyp[c * d.M + m] * wk[c * d.M + m];
                  dst[c] += acc;
                }
              }
            }
          }
        }
    }
  });
}

void DepthwiseBackpropFilter(const DepthwiseDims& d, const float* x, const float* dy, float* dw) {
  const int CM = d.C * d.M;
  const int64_t filterSize = (int64_t)d.kh * d.kw * CM;
  const int threads = pool().size();
  std::vector<std::vector<float>> partial(threads);
  ParallelFor(d.N, 1, [&](int64_t n0, int64_t n1, int tid) {
    std::vector<float>& acc = partial[tid];
    acc.assign(filterSize, 0.f);
    for (int64_t n = n0; n < n1; n++)
      for (int oh = 0; oh < d.Ho; oh++)
        for (int ow = 0; ow < d.Wo; ow++) {
          const float* dyp = dy + ((n * d.Ho + oh) * (int64_t)d.Wo + ow) * CM;
          for (int i = 0; i < d.kh; i++) {
            int ih = oh * d.sh - d.pt + i * d.dh;
            if (ih < 0 || ih >= d.H) continue;
            for (int j = 0; j < d.kw; j++) {
              int iw = ow * d.sw - d.pl + j * d.dw;
              if (iw < 0 || iw >= d.W) continue;
              const float* xp = x + ((n * d.H + ih) * (int64_t)d.W + iw) * d.C;
              float* a = acc.data() + ((int64_t)i * d.kw + j) * CM;
              if (d.M == 1) {
                for (int c = 0; c < d.C; c++) a[c] += xp[c] * dyp[c];
              } else {
                for (int c = 0; c < d.C; c++)
                  for (int m = 0; m < d.M; m++) a[c * d.M + m] += xp[c] * dyp[c * d.M + m];
              }
            }
          }
        }
  });
  std::memset(dw, 0, sizeof(float) * filterSize);
  for (auto& acc : partial)
    if (!acc.empty())
      for (int64_t i = 0; i < filterSize; i++) dw[i] += acc[i];
}

// out[c] = scale * sum_r in[r * cols + c]: reductions over every axis but the last (bias
// gradients, batch-norm statistics), which the wasm backend does by transposing first.
void ReduceRows(const float* in, int64_t rows, int64_t cols, float scale, float* out) {
  const int threads = pool().size();
  std::vector<std::vector<double>> partial(threads);
  ParallelFor(rows, 2048, [&](int64_t r0, int64_t r1, int tid) {
    std::vector<double>& acc = partial[tid];
    acc.assign(cols, 0.0);
    // Sum blocks of rows in float (vectorised), then fold each block into double.
    std::vector<float> block(cols);
    for (int64_t r = r0; r < r1; r += 256) {
      int64_t end = std::min(r1, r + 256);
      std::fill(block.begin(), block.end(), 0.f);
      for (int64_t q = r; q < end; q++) {
        const float* row = in + q * cols;
        for (int64_t c = 0; c < cols; c++) block[c] += row[c];
      }
      for (int64_t c = 0; c < cols; c++) acc[c] += block[c];
    }
  });
  for (int64_t c = 0; c < cols; c++) {
    double s = 0;
    for (auto& acc : partial)
      if (!acc.empty()) s += acc[c];
    out[c] = static_cast<float>(s * scale);
  }
}


// ---------------------------------------------------------------------------------------------
// Batch normalisation over every axis but the last (channels innermost: x is [rows x C]).
//
// Training forward: per-channel mean and (biased) variance in one pass with double accumulators,
// then y = act(x * scale + shift) with scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
// Backward (closed form, with g = dy masked by y > 0 where a ReLU was fused):
//   dbeta = sum(g), dgamma = sum(g * xhat), xhat = (x - mean) * invstd
//   dx = gamma * invstd / M * (M * g - dbeta - xhat * dgamma)  =  a * g + b * x + d   per channel.

// Per-thread sums of x and x^2 over a range of rows, accumulated in double (vectorised over channels).
TFKD_CLONES
void BnStatsRange(const float* x, int64_t r0, int64_t r1, int64_t C, double* s, double* q) {
  for (int64_t i = r0; i < r1; i++) {
    const float* row = x + i * C;
    for (int64_t c = 0; c < C; c++) {
      double v = row[c];
      s[c] += v;
      q[c] += v * v;
    }
  }
}

TFKD_CLONES
void BnApplyRange(const float* x, int64_t r0, int64_t r1, int64_t C, const float* scale, const float* shift, int act,
                  float* y) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    if (act == kRelu)
      for (int64_t c = 0; c < C; c++) {
        float v = xr[c] * scale[c] + shift[c];
        yr[c] = v > 0.f ? v : 0.f;
      }
    else if (act == kRelu6)
      for (int64_t c = 0; c < C; c++) yr[c] = std::min(6.f, std::max(0.f, xr[c] * scale[c] + shift[c]));
    else
      for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
  }
}

// Rows per task: at least ~32k elements so the pool is only woken for work worth it.
int64_t BnMinRows(int64_t C) { return std::max<int64_t>(64, 32768 / std::max<int64_t>(1, C)); }

// Folds per-thread partial sums into out0/out1 (double, length C).
void FoldPartials(const std::vector<std::vector<double>>& p, int64_t C, std::vector<double>& out0,
                  std::vector<double>& out1) {
  out0.assign(C, 0.0);
  out1.assign(C, 0.0);
  for (const auto& v : p) {
    if (v.empty()) continue;
    for (int64_t c = 0; c < C; c++) out0[c] += v[c], out1[c] += v[C + c];
  }
}

void BatchNormTrain(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t C, float eps, int act,
                    float* y, float* mean, float* var) {
  const int threads = pool().size();
  std::vector<std::vector<double>> partial(threads);
  ParallelFor(rows, BnMinRows(C), [&](int64_t r0, int64_t r1, int tid) {
    std::vector<double>& acc = partial[tid];
    acc.assign(2 * C, 0.0);
    BnStatsRange(x, r0, r1, C, acc.data(), acc.data() + C);
  });
  std::vector<double> s, q;
  FoldPartials(partial, C, s, q);
  std::vector<float> scale(C), shift(C);
  const double m = static_cast<double>(std::max<int64_t>(rows, 1));
  for (int64_t c = 0; c < C; c++) {
    double mu = s[c] / m;
    double v = std::max(0.0, q[c] / m - mu * mu);
    mean[c] = static_cast<float>(mu);
    var[c] = static_cast<float>(v);
    double inv = 1.0 / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps));
    double sc = static_cast<double>(gamma[c]) * inv;
    scale[c] = static_cast<float>(sc);
    shift[c] = static_cast<float>(static_cast<double>(beta[c]) - mu * sc);
  }
  ParallelFor(rows, BnMinRows(C), [&](int64_t r0, int64_t r1, int) {
    BnApplyRange(x, r0, r1, C, scale.data(), shift.data(), act, y);
  });
}

// Sums of g and g * (x - mean) over row ranges; g = dy, masked where the fused activation's output
// y (if given) had zero gradient.
// The gradient passed through the fused activation, whose output was y.
template <int Act>
inline float Masked(float g, const float* yr, int64_t c) {
  // Branch-free (a multiply by 0/1), so the loops vectorise: the masks are random.
  if (Act == kRelu) return g * static_cast<float>(yr[c] > 0.f);
  if (Act == kRelu6) return g * static_cast<float>((yr[c] > 0.f) & (yr[c] < 6.f));
  return g;
}

template <int Act>
TFKD_CLONES void BnGradSumsRange(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                                 const float* __restrict mean, int64_t r0, int64_t r1, int64_t C,
                                 double* __restrict sg, double* __restrict sgx) {
  for (int64_t i = r0; i < r1; i++) {
    const float* g = dy + i * C;
    const float* xr = x + i * C;
    const float* yr = Act == kLinear ? nullptr : y + i * C;
    for (int64_t c = 0; c < C; c++) {
      double gd = Masked<Act>(g[c], yr, c);
      sg[c] += gd;
      sgx[c] += gd * static_cast<double>(xr[c] - mean[c]);
    }
  }
}

template <int Act>
TFKD_CLONES void BnGradApplyRange(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                                  int64_t r0, int64_t r1, int64_t C, const float* __restrict a,
                                  const float* __restrict b, const float* __restrict d, float* __restrict dx) {
  for (int64_t r = r0; r < r1; r++) {
    const float* g = dy + r * C;
    const float* xr = x + r * C;
    const float* yr = Act == kLinear ? nullptr : y + r * C;
    float* o = dx + r * C;
    for (int64_t c = 0; c < C; c++) o[c] = Masked<Act>(g[c], yr, c) * a[c] + xr[c] * b[c] + d[c];
  }
}

void BnGradSums(int act, const float* dy, const float* x, const float* y, const float* mean, int64_t r0, int64_t r1,
                int64_t C, double* sg, double* sgx) {
  if (act == kRelu)
    BnGradSumsRange<kRelu>(dy, x, y, mean, r0, r1, C, sg, sgx);
  else if (act == kRelu6)
    BnGradSumsRange<kRelu6>(dy, x, y, mean, r0, r1, C, sg, sgx);
  else
    BnGradSumsRange<kLinear>(dy, x, y, mean, r0, r1, C, sg, sgx);
}

void BnGradApply(int act, const float* dy, const float* x, const float* y, int64_t r0, int64_t r1, int64_t C,
                 const float* a, const float* b, const float* d, float* dx) {
  if (act == kRelu)
    BnGradApplyRange<kRelu>(dy, x, y, r0, r1, C, a, b, d, dx);
  else if (act == kRelu6)
    BnGradApplyRange<kRelu6>(dy, x, y, r0, r1, C, a, b, d, dx);
  else
    BnGradApplyRange<kLinear>(dy, x, y, r0, r1, C, a, b, d, dx);
}

void BatchNormTrainGrad(const float* dy, const float* x, const float* y, int act, const float* mean, const float* var,
                        const float* gamma, int64_t rows, int64_t C, float eps, float* dx, float* dgamma,
                        float* dbeta) {
  const int threads = pool().size();
  std::vector<std::vector<double>> partial(threads);
  ParallelFor(rows, BnMinRows(C), [&](int64_t r0, int64_t r1, int tid) {
    std::vector<double>& acc = partial[tid];
    acc.assign(2 * C, 0.0);
    BnGradSums(act, dy, x, y, mean, r0, r1, C, acc.data(), acc.data() + C);
  });
  std::vector<double> sg, sgx;
  FoldPartials(partial, C, sg, sgx);
  std::vector<float> a(C), b(C), d(C);
  const double m = static_cast<double>(std::max<int64_t>(rows, 1));
  for (int64_t c = 0; c < C; c++) {
    double inv = 1.0 / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps));
    double sdyx = sg[c] == 0.0 && sgx[c] == 0.0 ? 0.0 : sgx[c] * inv;  // sum(g * xhat)
    double ac = static_cast<double>(gamma[c]) * inv;
    double bc = -ac * inv * sdyx / m;
    a[c] = static_cast<float>(ac);
    b[c] = static_cast<float>(bc);
    d[c] = static_cast<float>(-ac * sg[c] / m - bc * static_cast<double>(mean[c]));
    dgamma[c] = static_cast<float>(sdyx);
    dbeta[c] = static_cast<float>(sg[c]);
  }
  ParallelFor(rows, BnMinRows(C), [&](int64_t r0, int64_t r1, int) {
    BnGradApply(act, dy, x, y, r0, r1, C, a.data(), b.data(), d.data(), dx);
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The entry points declared in kernels.h (binding.cc validates every argument before calling them).

int DefaultThreads() {
#if defined(__linux__)
  // The CPUs this process may run on (taskset, cpusets), not the machine's count; the JS side
  // refines this with the cgroup CPU quota and sets the pool size explicitly.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

int PoolSize() { return pool().size(); }

void SetPoolSize(int n) {
  // Build the new pool before dropping the old one, so a failure (no threads left) keeps a pool.
  Pool* next = new Pool(n);
  delete g_pool;
  g_pool = next;
}

void RunConv2D(const ConvDims& d, const float* x, const float* w, const float* bias, float* y, int act) {
  Conv2D(d, x, w, bias, y, act);
}
void RunConv2DBackpropInput(const ConvDims& d, const float* dy, const float* w, float* dx) {
  Conv2DBackpropInput(d, dy, w, dx);
}
void RunConv2DBackpropFilter(const ConvDims& d, const float* x, const float* dy, float* dw) {
  Conv2DBackpropFilter(d, x, dy, dw);
}
void RunMaxPoolGrad(const PoolDims& d, const float* dy, const float* x, float* dx) { MaxPoolGrad(d, dy, x, dx); }
void RunDepthwiseBackpropInput(const DepthwiseDims& d, const float* dy, const float* w, float* dx) {
  DepthwiseBackpropInput(d, dy, w, dx);
}
void RunDepthwiseBackpropFilter(const DepthwiseDims& d, const float* x, const float* dy, float* dw) {
  DepthwiseBackpropFilter(d, x, dy, dw);
}
void RunReduceRows(const float* in, int64_t rows, int64_t cols, float scale, float* out) {
  ReduceRows(in, rows, cols, scale, out);
}
void RunBatchNormTrain(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t C, float eps,
                       int act, float* y, float* mean, float* var) {
  BatchNormTrain(x, gamma, beta, rows, C, eps, act, y, mean, var);
}
void RunBatchNormTrainGrad(const float* dy, const float* x, const float* y, int act, const float* mean,
                           const float* var, const float* gamma, int64_t rows, int64_t C, float eps, float* dx,
                           float* dgamma, float* dbeta) {
  BatchNormTrainGrad(dy, x, y, act, mean, var, gamma, rows, C, eps, dx, dgamma, dbeta);
}

const char* Isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "sse";
#elif defined(__aarch64__)
  return "neon";
#else
  return "generic";
#endif
}

}  // namespace tfkd
