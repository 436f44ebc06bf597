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

#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Thread pool: run(f) calls f(t) for t in [0, n) on n threads (the caller is thread 0).
class Pool {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    for (int i = 1; i < n_; i++) workers_.emplace_back([this, i] { Loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
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
      generation_++;
    }
    cv_.notify_all();
    f(0);
    std::unique_lock<std::mutex> l(m_);
    done_.wait(l, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
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
      (*job)(index);
      {
        std::lock_guard<std::mutex> l(m_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Pool* g_pool = nullptr;

Pool& pool() {
  if (!g_pool) {
    unsigned hw = std::thread::hardware_concurrency();
    g_pool = new Pool(hw == 0 ? 1 : static_cast<int>(hw));
  }
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
struct ConvDims {
  int N, H, W, Ci, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, dh, dw;
  int64_t kkc() const { return (int64_t)kh * kw * Ci; }
  bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0; }
};

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

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2 };

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

struct PoolDims {
  int N, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl;
};

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
struct DepthwiseDims {
  int N, H, W, C, M, Ho, Wo, kh, kw, sh, sw, pt, pl, dh, dw;
};

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

// ---------------------------------------------------------------------------------------------
// N-API glue
#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, nullptr, "tfkd-cpu-kernels: " #call " failed"); \
      return nullptr;                                                   \
    }                                                                   \
  } while (0)

bool GetHeap(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  void* p = nullptr;
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (!is_ab) return false;
  if (napi_get_arraybuffer_info(env, v, &p, len) != napi_ok) return false;
  *data = static_cast<uint8_t*>(p);
  return true;
}

bool GetInts(napi_env env, napi_value v, std::vector<int64_t>& out) {
  bool is_arr = false;
  napi_is_array(env, v, &is_arr);
  if (!is_arr) return false;
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  out.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok) return false;
    if (napi_get_value_int64(env, e, &out[i]) != napi_ok) return false;
  }
  return true;
}

// Each function: (heap: ArrayBuffer, offsets: number[] (bytes; -1 = absent), dims: number[], act?)
struct Args {
  uint8_t* heap = nullptr;
  size_t len = 0;
  std::vector<int64_t> off, dims;
  int64_t act = 0;
};

bool ParseArgs(napi_env env, napi_callback_info info, Args& a, size_t nOff, size_t nDims) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3) {
    napi_throw_type_error(env, nullptr, "expected (heap, offsets, dims[, activation])");
    return false;
  }
  if (!GetHeap(env, argv[0], &a.heap, &a.len)) {
    napi_throw_type_error(env, nullptr, "heap must be an ArrayBuffer");
    return false;
  }
  if (!GetInts(env, argv[1], a.off) || a.off.size() != nOff || !GetInts(env, argv[2], a.dims) ||
      a.dims.size() != nDims) {
    napi_throw_type_error(env, nullptr, "offsets/dims must be arrays of the expected length");
    return false;
  }
  if (argc > 3) napi_get_value_int64(env, argv[3], &a.act);
  for (int64_t d : a.dims)
    if (d < 0 || d > (1LL << 31)) {
      napi_throw_range_error(env, nullptr, "dimension out of range");
      return false;
    }
  return true;
}

// Checks that [off, off + floats*4) lies inside the heap and is 4-byte aligned.
bool InHeap(napi_env env, const Args& a, int64_t off, int64_t floats, const char* what) {
  if (off < 0 || off % 4 != 0 || floats < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(floats) * 4 > a.len) {
    std::string msg = std::string("tfkd-cpu-kernels: ") + what + " is outside the heap";
    napi_throw_range_error(env, nullptr, msg.c_str());
    return false;
  }
  return true;
}

float* F(const Args& a, int64_t off) { return reinterpret_cast<float*>(a.heap + off); }

ConvDims ToConv(const std::vector<int64_t>& v) {
  ConvDims d;
  int* f = &d.N;
  for (int i = 0; i < 15; i++) f[i] = static_cast<int>(v[i]);
  return d;
}

napi_value JsConv2D(napi_env env, napi_callback_info info) {
  Args a;
  if (!ParseArgs(env, info, a, 4, 15)) return nullptr;  // x, w, bias, y
  ConvDims d = ToConv(a.dims);
  if (!InHeap(env, a, a.off[0], (int64_t)d.N * d.H * d.W * d.Ci, "x") ||
      !InHeap(env, a, a.off[1], d.kkc() * d.Co, "filter") ||
      (a.off[2] >= 0 && !InHeap(env, a, a.off[2], d.Co, "bias")) ||
      !InHeap(env, a, a.off[3], (int64_t)d.N * d.Ho * d.Wo * d.Co, "y"))
    return nullptr;
  Conv2D(d, F(a, a.off[0]), F(a, a.off[1]), a.off[2] >= 0 ? F(a, a.off[2]) : nullptr, F(a, a.off[3]),
         static_cast<int>(a.act));
  return nullptr;
}

napi_value JsConv2DBackpropInput(napi_env env, napi_callback_info info) {
  Args a;
  if (!ParseArgs(env, info, a, 3, 15)) return nullptr;  // dy, w, dx
  ConvDims d = ToConv(a.dims);
  if (!InHeap(env, a, a.off[0], (int64_t)d.N * d.Ho * d.Wo * d.Co, "dy") ||
      !InHeap(env, a, a.off[1], d.kkc() * d.Co, "filter") ||
      !InHeap(env, a, a.off[2], (int64_t)d.N * d.H * d.W * d.Ci, "dx"))
    return nullptr;
  Conv2DBackpropInput(d, F(a, a.off[0]), F(a, a.off[1]), F(a, a.off[2]));
  return nullptr;
}

napi_value JsConv2DBackpropFilter(napi_env env, napi_callback_info info) {
  Args a;
  if (!ParseArgs(env, info, a, 3, 15)) return nullptr;  // x, dy, dw
  ConvDims d = ToConv(a.dims);
  if (!InHeap(env, a, a.off[0], (int64_t)d.N * d.H * d.W * d.Ci, "x") ||
      !InHeap(env, a, a.off[1], (int64_t)d.N * d.Ho * d.Wo * d.Co, "dy") ||
      !InHeap(env, a, a.off[2], d.kkc() * d.Co, "dw"))
    return nullptr;
  Conv2DBackpropFilter(d, F(a, a.off[0]), F(a, a.off[1]), F(a, a.off[2]));
  return nullptr;
}

napi_value JsMaxPoolGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!ParseArgs(env, info, a, 3, 12)) return nullptr;  // dy, x, dx
  PoolDims d;
  int* f = &d.N;
  for (int i = 0; i < 12; i++) f[i] = static_cast<int>(a.dims[i]);
  if (!InHeap(env, a, a.off[0], (int64_t)d.N * d.Ho * d.Wo * d.C, "dy") ||
      !InHeap(env, a, a.off[1], (int64_t)d.N * d.H * d.W * d.C, "x") ||
      !InHeap(env, a, a.off[2], (int64_t)d.N * d.H * d.W * d.C, "dx"))
    return nullptr;
  MaxPoolGrad(d, F(a, a.off[0]), F(a, a.off[1]), F(a, a.off[2]));
  return nullptr;
}

napi_value JsReduceRows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Args a;
  if (argc < 4 || !GetHeap(env, argv[0], &a.heap, &a.len) || !GetInts(env, argv[1], a.off) || a.off.size() != 2 ||
      !GetInts(env, argv[2], a.dims) || a.dims.size() != 2) {
    napi_throw_type_error(env, nullptr, "expected (heap, [in, out], [rows, cols], scale)");
    return nullptr;
  }
  double scale = 1;
  napi_get_value_double(env, argv[3], &scale);
  int64_t rows = a.dims[0], cols = a.dims[1];
  if (rows < 0 || cols <= 0 || !InHeap(env, a, a.off[0], rows * cols, "input") || !InHeap(env, a, a.off[1], cols, "output"))
    return nullptr;
  ReduceRows(F(a, a.off[0]), rows, cols, static_cast<float>(scale), F(a, a.off[1]));
  return nullptr;
}

// batchNormTrain(heap, [x, gamma, beta, y, mean, var], [rows, C], epsilon, activation)
napi_value JsBatchNormTrain(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Args a;
  if (argc < 5 || !GetHeap(env, argv[0], &a.heap, &a.len) || !GetInts(env, argv[1], a.off) || a.off.size() != 6 ||
      !GetInts(env, argv[2], a.dims) || a.dims.size() != 2) {
    napi_throw_type_error(env, nullptr, "expected (heap, [x, gamma, beta, y, mean, var], [rows, C], eps, act)");
    return nullptr;
  }
  double eps = 0;
  int64_t act = 0;
  napi_get_value_double(env, argv[3], &eps);
  napi_get_value_int64(env, argv[4], &act);
  const int64_t rows = a.dims[0], C = a.dims[1];
  if (rows < 0 || C <= 0 || !InHeap(env, a, a.off[0], rows * C, "x") || !InHeap(env, a, a.off[1], C, "gamma") ||
      !InHeap(env, a, a.off[2], C, "beta") || !InHeap(env, a, a.off[3], rows * C, "y") ||
      !InHeap(env, a, a.off[4], C, "mean") || !InHeap(env, a, a.off[5], C, "variance"))
    return nullptr;
  BatchNormTrain(F(a, a.off[0]), F(a, a.off[1]), F(a, a.off[2]), rows, C, static_cast<float>(eps),
                 static_cast<int>(act), F(a, a.off[3]), F(a, a.off[4]), F(a, a.off[5]));
  return nullptr;
}

// batchNormTrainGrad(heap, [dy, x, y (-1 unless act), mean, var, gamma, dx, dgamma, dbeta], [rows, C], eps, act)
napi_value JsBatchNormTrainGrad(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Args a;
  if (argc < 5 || !GetHeap(env, argv[0], &a.heap, &a.len) || !GetInts(env, argv[1], a.off) || a.off.size() != 9 ||
      !GetInts(env, argv[2], a.dims) || a.dims.size() != 2) {
    napi_throw_type_error(env, nullptr,
                          "expected (heap, [dy, x, y, mean, var, gamma, dx, dgamma, dbeta], [rows, C], eps, act)");
    return nullptr;
  }
  double eps = 0;
  int64_t act = 0;
  napi_get_value_double(env, argv[3], &eps);
  napi_get_value_int64(env, argv[4], &act);
  const int64_t rows = a.dims[0], C = a.dims[1];
  if (act != kLinear && a.off[2] < 0) {
    napi_throw_range_error(env, nullptr, "tfkd-cpu-kernels: a fused activation needs its output y");
    return nullptr;
  }
  if (rows < 0 || C <= 0 || !InHeap(env, a, a.off[0], rows * C, "dy") || !InHeap(env, a, a.off[1], rows * C, "x") ||
      (act != kLinear && !InHeap(env, a, a.off[2], rows * C, "y")) || !InHeap(env, a, a.off[3], C, "mean") ||
      !InHeap(env, a, a.off[4], C, "variance") || !InHeap(env, a, a.off[5], C, "gamma") ||
      !InHeap(env, a, a.off[6], rows * C, "dx") || !InHeap(env, a, a.off[7], C, "dgamma") ||
      !InHeap(env, a, a.off[8], C, "dbeta"))
    return nullptr;
  BatchNormTrainGrad(F(a, a.off[0]), F(a, a.off[1]), act != kLinear ? F(a, a.off[2]) : nullptr, static_cast<int>(act),
                     F(a, a.off[3]), F(a, a.off[4]), F(a, a.off[5]), rows, C, static_cast<float>(eps), F(a, a.off[6]),
                     F(a, a.off[7]), F(a, a.off[8]));
  return nullptr;
}

DepthwiseDims ToDepthwise(const std::vector<int64_t>& v) {
  DepthwiseDims d;
  int* f = &d.N;
  for (int i = 0; i < 15; i++) f[i] = static_cast<int>(v[i]);
  return d;
}

napi_value JsDepthwiseBackpropInput(napi_env env, napi_callback_info info) {
  Args a;
  if (!ParseArgs(env, info, a, 3, 15)) return nullptr;  // dy, w, dx
  DepthwiseDims d = ToDepthwise(a.dims);
  if (!InHeap(env, a, a.off[0], (int64_t)d.N * d.Ho * d.Wo * d.C * d.M, "dy") ||
      !InHeap(env, a, a.off[1], (int64_t)d.kh * d.kw * d.C * d.M, "filter") ||
      !InHeap(env, a, a.off[2], (int64_t)d.N * d.H * d.W * d.C, "dx"))
    return nullptr;
  DepthwiseBackpropInput(d, F(a, a.off[0]), F(a, a.off[1]), F(a, a.off[2]));
  return nullptr;
}

napi_value JsDepthwiseBackpropFilter(napi_env env, napi_callback_info info) {
  Args a;
  if (!ParseArgs(env, info, a, 3, 15)) return nullptr;  // x, dy, dw
  DepthwiseDims d = ToDepthwise(a.dims);
  if (!InHeap(env, a, a.off[0], (int64_t)d.N * d.H * d.W * d.C, "x") ||
      !InHeap(env, a, a.off[1], (int64_t)d.N * d.Ho * d.Wo * d.C * d.M, "dy") ||
      !InHeap(env, a, a.off[2], (int64_t)d.kh * d.kw * d.C * d.M, "dw"))
    return nullptr;
  DepthwiseBackpropFilter(d, F(a, a.off[0]), F(a, a.off[1]), F(a, a.off[2]));
  return nullptr;
}

napi_value JsThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc == 1) {
    int64_t n = 0;
    if (napi_get_value_int64(env, argv[0], &n) == napi_ok && n >= 1 && n <= 256) {
      delete g_pool;
      g_pool = new Pool(static_cast<int>(n));
    }
  }
  napi_value out;
  napi_create_int32(env, pool().size(), &out);
  return out;
}

napi_value JsIsa(napi_env env, napi_callback_info) {
  const char* isa = "generic";
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    isa = "avx512";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    isa = "avx2";
  else
    isa = "sse";
#elif defined(__aarch64__)
  isa = "neon";
#endif
  napi_value out;
  napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2d", nullptr, JsConv2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, JsConv2DBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, JsConv2DBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, JsMaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"depthwiseBackpropInput", nullptr, JsDepthwiseBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"depthwiseBackpropFilter", nullptr, JsDepthwiseBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceRows", nullptr, JsReduceRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, JsBatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, JsBatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, JsThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, JsIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GTYPE_MODULE_NAME, Init)
