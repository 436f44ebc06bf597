// The compute kernels of kernels.cc as binding.cc calls them. They trust their arguments: every
// dimension, offset and buffer length is checked at the N-API boundary (binding.cc) before any of
// these is called, so that no size here can wrap and no pointer can leave the heap.
#pragma once

#include <cstdint>

namespace tfkd {

// Dimensions, NHWC. binding.cc reads each field by name from the JS call (see its kDimensionSpec);
// the TypeScript side (src/core/backend/native-kernels.ts) mirrors those names and checks them
// against the addon's spec() when it installs the kernels.
struct ConvDims {
  int N, H, W, Ci, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, dh, dw;
  int64_t kkc() const { return (int64_t)kh * kw * Ci; }
  bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0; }
};

struct PoolDims {
  int N, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl;
};

// Depthwise convolution (channel multiplier M; filter [kh, kw, C, M]; dy [N, Ho, Wo, C*M]).
struct DepthwiseDims {
  int N, H, W, C, M, Ho, Wo, kh, kw, sh, sw, pt, pl, dh, dw;
};

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2 };

// Threads: the CPUs this process may use (affinity) by default; SetPoolSize replaces the pool.
int DefaultThreads();
int PoolSize();
void SetPoolSize(int n);
const char* Isa();

void RunConv2D(const ConvDims& d, const float* x, const float* w, const float* bias, float* y, int act);
void RunConv2DBackpropInput(const ConvDims& d, const float* dy, const float* w, float* dx);
void RunConv2DBackpropFilter(const ConvDims& d, const float* x, const float* dy, float* dw);
void RunMaxPoolGrad(const PoolDims& d, const float* dy, const float* x, float* dx);
void RunDepthwiseBackpropInput(const DepthwiseDims& d, const float* dy, const float* w, float* dx);
void RunDepthwiseBackpropFilter(const DepthwiseDims& d, const float* x, const float* dy, float* dw);
void RunReduceRows(const float* in, int64_t rows, int64_t cols, float scale, float* out);
void RunBatchNormTrain(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t C, float eps,
                       int act, float* y, float* mean, float* var);
void RunBatchNormTrainGrad(const float* dy, const float* x, const float* y, int act, const float* mean,
                           const float* var, const float* gamma, int64_t rows, int64_t C, float eps, float* dx,
                           float* dgamma, float* dbeta);

}  // namespace tfkd
