// The N-API boundary of the kernels in kernels.cc. Every entry has the same shape,
//   op(heap: ArrayBuffer, buffers: {name: byteOffset}, dims: {name: integer}, params?: {name: number})
// and every argument is read BY NAME against one spec (kDimensionSpecs, kOps below; exported as
// spec() so the TypeScript wrapper can check its mirror of it when it installs the kernels).
//
// Before a kernel runs, the boundary has
//   - checked every number is a finite integer in its range (dimensions in [min, 2^31 - 1]),
//   - computed every buffer's byte length as a checked 64-bit product of its dimensions and checked
//     [offset, offset + length) lies inside the heap, BEFORE the pointer into the heap is formed,
//   - checked the index arithmetic the kernels do in 32-bit ints cannot overflow,
// and every C++ exception (std::bad_alloc from a scratch buffer, a failure to start threads) comes
// back to JS as an Error/RangeError naming the op, never as an abort of the process.

#include <node_api.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels.h"

namespace tfkd {
namespace {

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();  // the kernels index with int
constexpr double kMaxSafeInteger = 9007199254740991.0;             // 2^53 - 1, JS's exact integers
constexpr int kMaxThreads = 1024;

// A bad argument; the message names it and its value. kind selects TypeError or RangeError.
struct BadArgument : std::runtime_error {
  enum Kind { kType, kRange } kind;
  BadArgument(Kind k, const std::string& m) : std::runtime_error(m), kind(k) {}
};
// A JS exception is already pending (a getter on an argument threw): return to JS with it.
struct JsPending {};

[[noreturn]] void RangeFail(const std::string& m) { throw BadArgument(BadArgument::kRange, m); }
[[noreturn]] void TypeFail(const std::string& m) { throw BadArgument(BadArgument::kType, m); }

std::string Show(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// a * b and a + b on non-negative values: false (and *out untouched) where the result would not
// fit in 64 bits, instead of wrapping. Messages are only built once a check has failed, so a valid
// call allocates no strings.
bool MulOk(int64_t a, int64_t b, int64_t* out) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return false;
  *out = a * b;
  return true;
}
bool AddOk(int64_t a, int64_t b, int64_t* out) {
  if (b > std::numeric_limits<int64_t>::max() - a) return false;
  *out = a + b;
  return true;
}

bool IsInteger(double v) { return std::isfinite(v) && std::trunc(v) == v; }

// ---------------------------------------------------------------------------------------------
// The dimension spec: each struct field with its JS name and its minimum (extents may be 0;
// filter sizes, strides and dilations at least 1). The maximum is kMaxDim for all.
template <typename D>
struct Field {
  const char* name;
  int D::*member;
  int64_t min;
};

struct RowsDims {
  int rows, channels;
};

constexpr Field<ConvDims> kConvFields[] = {
    {"batch", &ConvDims::N, 0},          {"inHeight", &ConvDims::H, 0},        {"inWidth", &ConvDims::W, 0},
    {"inChannels", &ConvDims::Ci, 0},    {"outHeight", &ConvDims::Ho, 0},      {"outWidth", &ConvDims::Wo, 0},
    {"outChannels", &ConvDims::Co, 0},   {"filterHeight", &ConvDims::kh, 1},   {"filterWidth", &ConvDims::kw, 1},
    {"strideHeight", &ConvDims::sh, 1},  {"strideWidth", &ConvDims::sw, 1},    {"padTop", &ConvDims::pt, 0},
    {"padLeft", &ConvDims::pl, 0},       {"dilationHeight", &ConvDims::dh, 1}, {"dilationWidth", &ConvDims::dw, 1},
};
constexpr Field<PoolDims> kPoolFields[] = {
    {"batch", &PoolDims::N, 0},         {"inHeight", &PoolDims::H, 0},       {"inWidth", &PoolDims::W, 0},
    {"channels", &PoolDims::C, 0},      {"outHeight", &PoolDims::Ho, 0},     {"outWidth", &PoolDims::Wo, 0},
    {"filterHeight", &PoolDims::kh, 1}, {"filterWidth", &PoolDims::kw, 1},   {"strideHeight", &PoolDims::sh, 1},
    {"strideWidth", &PoolDims::sw, 1},  {"padTop", &PoolDims::pt, 0},        {"padLeft", &PoolDims::pl, 0},
};
constexpr Field<DepthwiseDims> kDepthwiseFields[] = {
    {"batch", &DepthwiseDims::N, 0},
    {"inHeight", &DepthwiseDims::H, 0},
    {"inWidth", &DepthwiseDims::W, 0},
    {"inChannels", &DepthwiseDims::C, 0},
    {"channelMultiplier", &DepthwiseDims::M, 1},
    {"outHeight", &DepthwiseDims::Ho, 0},
    {"outWidth", &DepthwiseDims::Wo, 0},
    {"filterHeight", &DepthwiseDims::kh, 1},
    {"filterWidth", &DepthwiseDims::kw, 1},
    {"strideHeight", &DepthwiseDims::sh, 1},
    {"strideWidth", &DepthwiseDims::sw, 1},
    {"padTop", &DepthwiseDims::pt, 0},
    {"padLeft", &DepthwiseDims::pl, 0},
    {"dilationHeight", &DepthwiseDims::dh, 1},
    {"dilationWidth", &DepthwiseDims::dw, 1},
};
constexpr Field<RowsDims> kRowsFields[] = {{"rows", &RowsDims::rows, 0}, {"channels", &RowsDims::channels, 1}};

// The type-erased view of one Field table, for reading and for spec().
struct DimsSpec {
  const char* family;
  std::vector<std::pair<const char*, int64_t>> fields;  // name, minimum
};

template <typename D, size_t K>
DimsSpec Describe(const char* family, const Field<D> (&f)[K]) {
  DimsSpec s{family, {}};
  for (const auto& field : f) s.fields.emplace_back(field.name, field.min);
  return s;
}

const DimsSpec kConvSpec = Describe("conv", kConvFields);
const DimsSpec kPoolSpec = Describe("pool", kPoolFields);
const DimsSpec kDepthwiseSpec = Describe("depthwise", kDepthwiseFields);
const DimsSpec kRowsSpec = Describe("rows", kRowsFields);
const DimsSpec* const kDimensionSpecs[] = {&kConvSpec, &kPoolSpec, &kDepthwiseSpec, &kRowsSpec};

struct OpSpec {
  const char* name;
  const DimsSpec* dims;
  std::vector<const char*> buffers;  // byte offsets; those the op may go without are marked in Buffer()
  std::vector<const char*> params;
};

const OpSpec kConv2D{"conv2d", &kConvSpec, {"x", "filter", "bias", "y"}, {"activation"}};
const OpSpec kConv2DBackpropInput{"conv2dBackpropInput", &kConvSpec, {"dy", "filter", "dx"}, {}};
const OpSpec kConv2DBackpropFilter{"conv2dBackpropFilter", &kConvSpec, {"x", "dy", "dw"}, {}};
const OpSpec kMaxPoolGrad{"maxPoolGrad", &kPoolSpec, {"dy", "x", "dx"}, {}};
const OpSpec kDepthwiseBackpropInput{"depthwiseBackpropInput", &kDepthwiseSpec, {"dy", "filter", "dx"}, {}};
const OpSpec kDepthwiseBackpropFilter{"depthwiseBackpropFilter", &kDepthwiseSpec, {"x", "dy", "dw"}, {}};
const OpSpec kReduceRows{"reduceRows", &kRowsSpec, {"x", "y"}, {"scale"}};
const OpSpec kBatchNormTrain{
    "batchNormTrain", &kRowsSpec, {"x", "gamma", "beta", "y", "mean", "variance"}, {"epsilon", "activation"}};
const OpSpec kBatchNormTrainGrad{"batchNormTrainGrad",
                                 &kRowsSpec,
                                 {"dy", "x", "y", "mean", "variance", "gamma", "dx", "dgamma", "dbeta"},
                                 {"epsilon", "activation"}};
const OpSpec* const kOps[] = {&kConv2D,
                              &kConv2DBackpropInput,
                              &kConv2DBackpropFilter,
                              &kMaxPoolGrad,
                              &kDepthwiseBackpropInput,
                              &kDepthwiseBackpropFilter,
                              &kReduceRows,
                              &kBatchNormTrain,
                              &kBatchNormTrainGrad};

// ---------------------------------------------------------------------------------------------
// One call's arguments. The constructor reads every value (running any JS getters) first and
// takes the heap's address last, so no JS can detach or replace the heap after it was taken.
class Call {
 public:
  Call(napi_env env, napi_callback_info info, const OpSpec& op) : env_(env), op_(op) {
    size_t argc = 4;
    napi_value argv[4];
    Ok(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    const size_t want = op.params.empty() ? 3 : 4;
    if (argc < want)
      TypeFail("expected (heap, buffers, dims" + std::string(want == 4 ? ", params)" : ")") + ", got " +
               std::to_string(argc) + " arguments");
    offsets_ = ReadObject(argv[1], "buffers", op.buffers, true);
    std::vector<const char*> dimNames;
    for (const auto& f : op.dims->fields) dimNames.push_back(f.first);
    dims_ = ReadObject(argv[2], "dims", dimNames, false);
    if (!op.params.empty()) params_ = ReadObject(argv[3], "params", op.params, false);
    ReadHeap(argv[0]);
  }

  // The dimensions as the kernels' struct, each field validated against its range.
  template <typename D, size_t K>
  D Dims(const Field<D> (&fields)[K]) const {
    if (K != op_.dims->fields.size() || std::strcmp(fields[0].name, op_.dims->fields[0].first) != 0)
      throw std::logic_error("internal: the dims table does not match the op's spec");
    D d{};
    for (size_t i = 0; i < K; i++) {
      const double v = dims_[i];
      if (!IsInteger(v) || v < static_cast<double>(fields[i].min) || v > static_cast<double>(kMaxDim))
        RangeFail(std::string("dims.") + fields[i].name + " = " + Show(v) +
                  " is out of range (expected an integer in [" + std::to_string(fields[i].min) + ", " +
                  std::to_string(kMaxDim) + "])");
      d.*fields[i].member = static_cast<int>(v);
    }
    return d;
  }

  bool Has(const char* name) const { return !std::isnan(offsets_[Index(op_.buffers, name)]); }

  // The buffer of `shape` floats at buffers[name]: length and bounds checked before the pointer
  // into the heap is formed.
  float* Buffer(const char* name, std::initializer_list<int64_t> shape) const {
    const double off = offsets_[Index(op_.buffers, name)];
    if (std::isnan(off))
      TypeFail(std::string("buffers.") + name + " is missing (expected a byte offset into the heap)");
    if (!IsInteger(off) || off < 0 || off > kMaxSafeInteger || std::fmod(off, 4.0) != 0)
      RangeFail(std::string("buffers.") + name + " = " + Show(off) +
                " is not a non-negative integer multiple of 4 (float32 alignment)");
    const int64_t offset = static_cast<int64_t>(off);
    int64_t floats = 1, bytes = 0, end = 0;
    bool ok = true;
    for (int64_t s : shape) ok = ok && MulOk(floats, s, &floats);
    ok = ok && MulOk(floats, 4, &bytes) && AddOk(offset, bytes, &end);
    if (!ok || static_cast<uint64_t>(end) > static_cast<uint64_t>(heapLen_)) {
      std::string dims;
      for (int64_t s : shape) dims += (dims.empty() ? "" : " x ") + std::to_string(s);
      std::string head = std::string("buffers.") + name + " = [" + dims + "] floats at byte offset " +
                         std::to_string(offset);
      if (!ok) RangeFail(head + ": its size overflows 64 bits");
      RangeFail(head + " (" + std::to_string(bytes) + " bytes) ends past the heap (" + std::to_string(heapLen_) +
                " bytes)");
    }
    return reinterpret_cast<float*>(heap_ + offset);
  }

  double Param(const char* name) const { return params_[Index(op_.params, name)]; }

  int Activation() const {
    const double v = Param("activation");
    if (v != kLinear && v != kRelu && v != kRelu6)
      RangeFail("params.activation = " + Show(v) + " is not 0 (linear), 1 (relu) or 2 (relu6)");
    return static_cast<int>(v);
  }

  float Finite(const char* name, double lo) const {
    double v = Param(name);
    if (!std::isfinite(v) || v < lo || std::fabs(v) > std::numeric_limits<float>::max())
      RangeFail(std::string("params.") + name + " = " + Show(v) + " is not a finite float32 >= " + Show(lo));
    return static_cast<float>(v);
  }

 private:
  void Ok(napi_status s, const char* what, const char* name = nullptr) const {
    if (s == napi_ok) return;
    bool pending = false;
    napi_is_exception_pending(env_, &pending);
    if (pending) throw JsPending{};
    TypeFail(std::string("could not read ") + what + (name ? std::string(".") + name : std::string()));
  }

  static size_t Index(const std::vector<const char*>& names, const char* name) {
    for (size_t i = 0; i < names.size(); i++)
      if (std::strcmp(names[i], name) == 0) return i;
    throw std::logic_error(std::string("internal: '") + name + "' is not in the op's spec");
  }

  // Reads obj[name] for each name (a number, or NaN for absent where allowed), after checking obj
  // has no other keys: a misspelt or stale name on the JS side fails instead of being ignored.
  std::vector<double> ReadObject(napi_value obj, const char* what, const std::vector<const char*>& names,
                                 bool absentAllowed) const {
    napi_valuetype t;
    Ok(napi_typeof(env_, obj, &t), what);
    if (t != napi_object) TypeFail(std::string(what) + " must be an object of named numbers");
    napi_value keys;
    uint32_t n = 0;
    Ok(napi_get_property_names(env_, obj, &keys), what);
    Ok(napi_get_array_length(env_, keys, &n), what);
    for (uint32_t i = 0; i < n; i++) {
      napi_value k;
      Ok(napi_get_element(env_, keys, i, &k), what);
      char key[64] = {0};
      size_t len = 0;
      napi_valuetype kt;
      Ok(napi_typeof(env_, k, &kt), what);
      if (kt == napi_string) Ok(napi_get_value_string_utf8(env_, k, key, sizeof key, &len), what);
      bool known = false;
      for (const char* name : names) known = known || std::strcmp(name, key) == 0;
      if (!known) TypeFail(std::string(what) + " has an unknown key '" + key + "' (expected " + Join(names) + ")");
    }
    std::vector<double> out;
    for (const char* name : names) {
      napi_value v;
      napi_valuetype vt;
      Ok(napi_get_named_property(env_, obj, name, &v), what, name);
      Ok(napi_typeof(env_, v, &vt), what, name);
      if (vt == napi_number) {
        double d = 0;
        Ok(napi_get_value_double(env_, v, &d), what, name);
        // NaN marks "absent" below; a NaN passed in is a bad value, not an absent buffer.
        if (std::isnan(d)) RangeFail(std::string(what) + "." + name + " = NaN is not a finite integer");
        out.push_back(d);
      } else if (absentAllowed && (vt == napi_undefined || vt == napi_null)) {
        out.push_back(std::nan(""));
      } else if (vt == napi_undefined) {
        TypeFail(std::string(what) + "." + name + " is missing (expected a number)");
      } else {
        TypeFail(std::string(what) + "." + name + " must be a number");
      }
    }
    return out;
  }

  static std::string Join(const std::vector<const char*>& names) {
    std::string s;
    for (const char* n : names) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
  }

  void ReadHeap(napi_value v) {
    bool isAb = false;
    Ok(napi_is_arraybuffer(env_, v, &isAb), "heap");
    if (!isAb) TypeFail("heap must be an ArrayBuffer (the wasm memory's buffer)");
    void* data = nullptr;
    Ok(napi_get_arraybuffer_info(env_, v, &data, &heapLen_), "heap");
    heap_ = static_cast<uint8_t*>(data);
  }

  napi_env env_;
  const OpSpec& op_;
  std::vector<double> offsets_, dims_, params_;
  uint8_t* heap_ = nullptr;
  size_t heapLen_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Geometry: the kernels compute input coordinates as out * stride - pad + k * dilation in int.
void CheckReach(const char* op, const char* axis, int64_t out, int64_t stride, int64_t k, int64_t dilation) {
  if (out == 0) return;
  // Each factor is below 2^31 (Dims checked it), so neither product nor the sum can wrap int64.
  const int64_t reach = (out - 1) * stride + (k - 1) * dilation;
  if (reach > kMaxDim)
    RangeFail(std::string(axis) + ": (out " + std::to_string(out) + " - 1) * stride " + std::to_string(stride) +
              " + (filter " + std::to_string(k) + " - 1) * dilation " + std::to_string(dilation) + " = " +
              std::to_string(reach) + " exceeds " + std::to_string(kMaxDim) + " (" + op +
              " indexes with 32-bit ints)");
}

// A product the kernels hold in an int (a GEMM dimension, a row length) must fit in one.
void CheckIntProduct(std::initializer_list<std::pair<const char*, int64_t>> factors) {
  int64_t p = 1;
  bool ok = true;
  for (const auto& f : factors) ok = ok && MulOk(p, f.second, &p) && p <= kMaxDim;
  if (ok) return;
  std::string what;
  for (const auto& f : factors)
    what += (what.empty() ? "" : " * ") + std::string(f.first) + " " + std::to_string(f.second);
  RangeFail(what + " exceeds 2^31 - 1");
}

void CheckConv(const ConvDims& d, const char* op) {
  CheckReach(op, "height", d.Ho, d.sh, d.kh, d.dh);
  CheckReach(op, "width", d.Wo, d.sw, d.kw, d.dw);
  CheckIntProduct({{"filterHeight", d.kh}, {"filterWidth", d.kw}, {"inChannels", d.Ci}});
  CheckIntProduct({{"outHeight", d.Ho}, {"outWidth", d.Wo}});
}

// Throws the JS error for a caught C++ exception; a JS exception already pending is left as is.
void ThrowJs(napi_env env, const char* op, const char* code, bool range, const std::string& msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  std::string full = std::string("tfkd-cpu-kernels ") + op + ": " + msg;
  if (range)
    napi_throw_range_error(env, code, full.c_str());
  else
    napi_throw_error(env, code, full.c_str());
}

// Runs one entry's body; nothing thrown in C++ crosses into N-API (where it would abort the process).
template <typename Body>
napi_value Guarded(napi_env env, const char* op, Body&& body) {
  try {
    return body();
  } catch (const JsPending&) {
  } catch (const BadArgument& e) {
    std::string full = std::string("tfkd-cpu-kernels ") + op + ": " + e.what();
    if (e.kind == BadArgument::kType)
      napi_throw_type_error(env, "ERR_TFKD_NATIVE_ARGUMENT", full.c_str());
    else
      napi_throw_range_error(env, "ERR_TFKD_NATIVE_ARGUMENT", full.c_str());
  } catch (const std::bad_alloc&) {
    ThrowJs(env, op, "ERR_TFKD_NATIVE_OUT_OF_MEMORY", true,
            "out of memory: a scratch buffer for this call could not be allocated (std::bad_alloc)");
  } catch (const std::exception& e) {
    ThrowJs(env, op, "ERR_TFKD_NATIVE", false, e.what());
  } catch (...) {
    ThrowJs(env, op, "ERR_TFKD_NATIVE", false, "unknown C++ exception");
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// The entries. Each: read the dims, check the geometry, take every buffer (checked), then compute.
napi_value JsConv2D(napi_env env, napi_callback_info info) {
  return Guarded(env, kConv2D.name, [&]() -> napi_value {
    Call c(env, info, kConv2D);
    ConvDims d = c.Dims(kConvFields);
    CheckConv(d, kConv2D.name);
    float* x = c.Buffer("x", {d.N, d.H, d.W, d.Ci});
    float* w = c.Buffer("filter", {d.kh, d.kw, d.Ci, d.Co});
    float* bias = c.Has("bias") ? c.Buffer("bias", {d.Co}) : nullptr;
    float* y = c.Buffer("y", {d.N, d.Ho, d.Wo, d.Co});
    int act = c.Activation();
    RunConv2D(d, x, w, bias, y, act);
    return nullptr;
  });
}

napi_value JsConv2DBackpropInput(napi_env env, napi_callback_info info) {
  return Guarded(env, kConv2DBackpropInput.name, [&]() -> napi_value {
    Call c(env, info, kConv2DBackpropInput);
    ConvDims d = c.Dims(kConvFields);
    CheckConv(d, kConv2DBackpropInput.name);
    float* dy = c.Buffer("dy", {d.N, d.Ho, d.Wo, d.Co});
    float* w = c.Buffer("filter", {d.kh, d.kw, d.Ci, d.Co});
    float* dx = c.Buffer("dx", {d.N, d.H, d.W, d.Ci});
    RunConv2DBackpropInput(d, dy, w, dx);
    return nullptr;
  });
}

napi_value JsConv2DBackpropFilter(napi_env env, napi_callback_info info) {
  return Guarded(env, kConv2DBackpropFilter.name, [&]() -> napi_value {
    Call c(env, info, kConv2DBackpropFilter);
    ConvDims d = c.Dims(kConvFields);
    CheckConv(d, kConv2DBackpropFilter.name);
    float* x = c.Buffer("x", {d.N, d.H, d.W, d.Ci});
    float* dy = c.Buffer("dy", {d.N, d.Ho, d.Wo, d.Co});
    float* dw = c.Buffer("dw", {d.kh, d.kw, d.Ci, d.Co});
    RunConv2DBackpropFilter(d, x, dy, dw);
    return nullptr;
  });
}

napi_value JsMaxPoolGrad(napi_env env, napi_callback_info info) {
  return Guarded(env, kMaxPoolGrad.name, [&]() -> napi_value {
    Call c(env, info, kMaxPoolGrad);
    PoolDims d = c.Dims(kPoolFields);
    CheckReach(kMaxPoolGrad.name, "height", d.Ho, d.sh, d.kh, 1);
    CheckReach(kMaxPoolGrad.name, "width", d.Wo, d.sw, d.kw, 1);
    CheckIntProduct({{"filterHeight", d.kh}, {"filterWidth", d.kw}});
    float* dy = c.Buffer("dy", {d.N, d.Ho, d.Wo, d.C});
    float* x = c.Buffer("x", {d.N, d.H, d.W, d.C});
    float* dx = c.Buffer("dx", {d.N, d.H, d.W, d.C});
    RunMaxPoolGrad(d, dy, x, dx);
    return nullptr;
  });
}

DepthwiseDims DepthwiseChecked(const Call& c, const char* op) {
  DepthwiseDims d = c.Dims(kDepthwiseFields);
  CheckReach(op, "height", d.Ho, d.sh, d.kh, d.dh);
  CheckReach(op, "width", d.Wo, d.sw, d.kw, d.dw);
  CheckIntProduct({{"inChannels", d.C}, {"channelMultiplier", d.M}});
  return d;
}

napi_value JsDepthwiseBackpropInput(napi_env env, napi_callback_info info) {
  return Guarded(env, kDepthwiseBackpropInput.name, [&]() -> napi_value {
    Call c(env, info, kDepthwiseBackpropInput);
    DepthwiseDims d = DepthwiseChecked(c, kDepthwiseBackpropInput.name);
    float* dy = c.Buffer("dy", {d.N, d.Ho, d.Wo, d.C, d.M});
    float* w = c.Buffer("filter", {d.kh, d.kw, d.C, d.M});
    float* dx = c.Buffer("dx", {d.N, d.H, d.W, d.C});
    RunDepthwiseBackpropInput(d, dy, w, dx);
    return nullptr;
  });
}

napi_value JsDepthwiseBackpropFilter(napi_env env, napi_callback_info info) {
  return Guarded(env, kDepthwiseBackpropFilter.name, [&]() -> napi_value {
    Call c(env, info, kDepthwiseBackpropFilter);
    DepthwiseDims d = DepthwiseChecked(c, kDepthwiseBackpropFilter.name);
    float* x = c.Buffer("x", {d.N, d.H, d.W, d.C});
    float* dy = c.Buffer("dy", {d.N, d.Ho, d.Wo, d.C, d.M});
    float* dw = c.Buffer("dw", {d.kh, d.kw, d.C, d.M});
    RunDepthwiseBackpropFilter(d, x, dy, dw);
    return nullptr;
  });
}

napi_value JsReduceRows(napi_env env, napi_callback_info info) {
  return Guarded(env, kReduceRows.name, [&]() -> napi_value {
    Call c(env, info, kReduceRows);
    RowsDims d = c.Dims(kRowsFields);
    float* x = c.Buffer("x", {d.rows, d.channels});
    float* y = c.Buffer("y", {d.channels});
    float scale = c.Finite("scale", -std::numeric_limits<float>::max());
    RunReduceRows(x, d.rows, d.channels, scale, y);
    return nullptr;
  });
}

napi_value JsBatchNormTrain(napi_env env, napi_callback_info info) {
  return Guarded(env, kBatchNormTrain.name, [&]() -> napi_value {
    Call c(env, info, kBatchNormTrain);
    RowsDims d = c.Dims(kRowsFields);
    float* x = c.Buffer("x", {d.rows, d.channels});
    float* gamma = c.Buffer("gamma", {d.channels});
    float* beta = c.Buffer("beta", {d.channels});
    float* y = c.Buffer("y", {d.rows, d.channels});
    float* mean = c.Buffer("mean", {d.channels});
    float* var = c.Buffer("variance", {d.channels});
    float eps = c.Finite("epsilon", 0);
    int act = c.Activation();
    RunBatchNormTrain(x, gamma, beta, d.rows, d.channels, eps, act, y, mean, var);
    return nullptr;
  });
}

napi_value JsBatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return Guarded(env, kBatchNormTrainGrad.name, [&]() -> napi_value {
    Call c(env, info, kBatchNormTrainGrad);
    RowsDims d = c.Dims(kRowsFields);
    const int act = c.Activation();
    // y (the fused activation's output) is needed only where an activation was fused; checked
    // wherever it is given.
    if (act != kLinear && !c.Has("y")) TypeFail("buffers.y is missing: a fused activation needs its output y");
    float* dy = c.Buffer("dy", {d.rows, d.channels});
    float* x = c.Buffer("x", {d.rows, d.channels});
    float* y = c.Has("y") ? c.Buffer("y", {d.rows, d.channels}) : nullptr;
    float* mean = c.Buffer("mean", {d.channels});
    float* var = c.Buffer("variance", {d.channels});
    float* gamma = c.Buffer("gamma", {d.channels});
    float* dx = c.Buffer("dx", {d.rows, d.channels});
    float* dgamma = c.Buffer("dgamma", {d.channels});
    float* dbeta = c.Buffer("dbeta", {d.channels});
    float eps = c.Finite("epsilon", 0);
    RunBatchNormTrainGrad(dy, x, y, act, mean, var, gamma, d.rows, d.channels, eps, dx, dgamma, dbeta);
    return nullptr;
  });
}

// threads(n?): sets the pool to n threads when given (1..kMaxThreads); returns the pool size.
napi_value JsThreads(napi_env env, napi_callback_info info) {
  return Guarded(env, "threads", [&]() -> napi_value {
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    napi_valuetype t = napi_undefined;
    if (argc >= 1) napi_typeof(env, argv[0], &t);
    if (t != napi_undefined) {
      double n = 0;
      if (t != napi_number || napi_get_value_double(env, argv[0], &n) != napi_ok) TypeFail("n must be a number");
      if (!std::isfinite(n) || std::trunc(n) != n || n < 1 || n > kMaxThreads)
        RangeFail("n = " + Show(n) + " is not an integer in [1, " + std::to_string(kMaxThreads) + "]");
      SetPoolSize(static_cast<int>(n));
    }
    napi_value out;
    napi_create_int32(env, PoolSize(), &out);
    return out;
  });
}

napi_value JsIsa(napi_env env, napi_callback_info) {
  return Guarded(env, "isa", [&]() -> napi_value {
    napi_value out;
    napi_create_string_utf8(env, Isa(), NAPI_AUTO_LENGTH, &out);
    return out;
  });
}

napi_value Strings(napi_env env, const std::vector<const char*>& names) {
  napi_value arr;
  napi_create_array_with_length(env, names.size(), &arr);
  for (size_t i = 0; i < names.size(); i++) {
    napi_value s;
    napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, static_cast<uint32_t>(i), s);
  }
  return arr;
}

// spec(): { maxDimension, dims: { family: [{ name, min }] }, ops: { op: { dims, buffers, params } } }
napi_value JsSpec(napi_env env, napi_callback_info) {
  return Guarded(env, "spec", [&]() -> napi_value {
    napi_value out, dims, ops, v;
    napi_create_object(env, &out);
    napi_create_object(env, &dims);
    napi_create_object(env, &ops);
    for (const DimsSpec* s : kDimensionSpecs) {
      napi_value fields;
      napi_create_array_with_length(env, s->fields.size(), &fields);
      for (size_t i = 0; i < s->fields.size(); i++) {
        napi_value f;
        napi_create_object(env, &f);
        napi_create_string_utf8(env, s->fields[i].first, NAPI_AUTO_LENGTH, &v);
        napi_set_named_property(env, f, "name", v);
        napi_create_int64(env, s->fields[i].second, &v);
        napi_set_named_property(env, f, "min", v);
        napi_set_element(env, fields, static_cast<uint32_t>(i), f);
      }
      napi_set_named_property(env, dims, s->family, fields);
    }
    for (const OpSpec* op : kOps) {
      napi_value o;
      napi_create_object(env, &o);
      napi_create_string_utf8(env, op->dims->family, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, o, "dims", v);
      napi_set_named_property(env, o, "buffers", Strings(env, op->buffers));
      napi_set_named_property(env, o, "params", Strings(env, op->params));
      napi_set_named_property(env, ops, op->name, o);
    }
    napi_create_int64(env, kMaxDim, &v);
    napi_set_named_property(env, out, "maxDimension", v);
    napi_set_named_property(env, out, "dims", dims);
    napi_set_named_property(env, out, "ops", ops);
    return out;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {kConv2D.name, nullptr, JsConv2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {kConv2DBackpropInput.name, nullptr, JsConv2DBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {kConv2DBackpropFilter.name, nullptr, JsConv2DBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {kMaxPoolGrad.name, nullptr, JsMaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {kDepthwiseBackpropInput.name, nullptr, JsDepthwiseBackpropInput, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {kDepthwiseBackpropFilter.name, nullptr, JsDepthwiseBackpropFilter, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {kReduceRows.name, nullptr, JsReduceRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {kBatchNormTrain.name, nullptr, JsBatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {kBatchNormTrainGrad.name, nullptr, JsBatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, JsThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, JsIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"spec", nullptr, JsSpec, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace
}  // namespace tfkd

NAPI_MODULE(NODE_GYP_MODULE_NAME, tfkd::Init)
