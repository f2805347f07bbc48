// Argument validation for every native entry point.
#include "binding.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace asyncore {

static std::string Describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return "an object";
    case napi_function: return "a function";
    case napi_bigint: return "a bigint";
    default: return "an unknown value";
  }
}

static Napi::Value Arg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

// The argument's raw handle, or nullptr when it was not passed.
static napi_value RawArg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? static_cast<napi_value>(info[i]) : nullptr;
}

// A number as JavaScript would print it (1.5, 1e+308, -Infinity), for messages.
// Never through an integer cast: a double out of the integer's range (or
// NaN, or an infinity) converted to an integer is undefined behaviour.
static std::string NumberText(double d) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// These readers sit on the hot paths (send, recv, every wait), so the common
// case costs one Node-API call: napi_get_value_double() and
// napi_get_typedarray_info() themselves refuse a value of the wrong type, and
// only then is the value's type looked up, to say what it was.

// The number `v` holds, or false when it is not a number.
static bool NumberOf(napi_env env, napi_value v, double* d) {
  return v != nullptr && napi_get_value_double(env, v, d) == napi_ok;
}

static bool IsNullish(napi_env env, napi_value v) {
  if (v == nullptr) return true;
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

// Why `d` is not an integer in [min, max]: the error, out of line (the
// readers' common case is inlined into every caller and must stay small).
[[noreturn]] __attribute__((noinline, cold)) static void BadInt(Napi::Env env, double d, const char* name,
                                                                int64_t min, int64_t max) {
  if (std::isnan(d) || std::floor(d) != d)
    ThrowType(env, std::string(name) + " must be an integer, got " + NumberText(d));
  ThrowRange(env, std::string(name) + " must be between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got " + NumberText(d));
}

[[noreturn]] __attribute__((noinline, cold)) static void NotInt(const Napi::CallbackInfo& info, size_t i,
                                                                const char* name) {
  ThrowType(info.Env(), std::string(name) + " must be an integer, got " + Describe(Arg(info, i)));
}

// min and max must be exactly representable as doubles (|x| <= 2**53).
static inline int64_t CheckInt(Napi::Env env, double d, const char* name, int64_t min, int64_t max) {
  // In range (so the cast is defined) and whole.
  if (d >= static_cast<double>(min) && d <= static_cast<double>(max)) {
    int64_t n = static_cast<int64_t>(d);
    if (static_cast<double>(n) == d) return n;
  }
  BadInt(env, d, name, min, max);
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
               int64_t max) {
  double d;
  if (!NumberOf(info.Env(), RawArg(info, i), &d)) NotInt(info, i, name);
  return CheckInt(info.Env(), d, name, min, max);
}

int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
                 int64_t max, int64_t dflt) {
  napi_value v = RawArg(info, i);
  double d;
  if (NumberOf(info.Env(), v, &d)) return CheckInt(info.Env(), d, name, min, max);
  if (IsNullish(info.Env(), v)) return dflt;
  NotInt(info, i, name);
}

int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<int>(ArgInt(info, i, name, 0, INT32_MAX));
}

double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d;
  if (!NumberOf(info.Env(), RawArg(info, i), &d))
    ThrowType(info.Env(), std::string(name) + " must be a number, got " + Describe(Arg(info, i)));
  if (std::isnan(d)) ThrowType(info.Env(), std::string(name) + " must be a number, got NaN");
  return d;
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  napi_value v = RawArg(info, i);
  bool b;
  if (v == nullptr || napi_get_value_bool(info.Env(), v, &b) != napi_ok)
    ThrowType(info.Env(), std::string(name) + " must be a boolean, got " + Describe(Arg(info, i)));
  return b;
}

bool ArgBoolOr(const Napi::CallbackInfo& info, size_t i, const char* name, bool dflt) {
  if (IsNullish(info.Env(), RawArg(info, i))) return dflt;
  return ArgBool(info, i, name);
}

static size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 0;
  }
}

// The data pointer comes from napi_get_typedarray_info()/napi_get_dataview_info()
// themselves (already offset): going through the view's ArrayBuffer would fail
// with a plain "Invalid argument" Error for a view of a SharedArrayBuffer,
// which napi_get_arraybuffer_info() refuses.
static Bytes BytesOf(Napi::Env env, napi_value raw, const char* name) {
  size_t length = 0;
  void* data = nullptr;
  napi_typedarray_type type;
  // Not a TypedArray (or not passed): napi_invalid_arg, and the other shapes are tried.
  if (raw != nullptr && napi_get_typedarray_info(env, raw, &type, &length, &data, nullptr, nullptr) == napi_ok) {
    size_t size = ElementSize(type);
    if (size == 0) ThrowType(env, std::string(name) + " is a TypedArray of an unsupported element type");
    // A detached view reports zero elements (and no data).
    if (length == 0 || data == nullptr) return Bytes{nullptr, 0};
    return Bytes{static_cast<uint8_t*>(data), length * size};
  }
  Napi::Value v = raw != nullptr ? Napi::Value(env, raw) : env.Undefined();
  if (v.IsDataView()) {
    NAPI_THROW_IF_FAILED(env, napi_get_dataview_info(env, v, &length, &data, nullptr, nullptr),
                         (Bytes{nullptr, 0}));
    if (length == 0 || data == nullptr) return Bytes{nullptr, 0};
    return Bytes{static_cast<uint8_t*>(data), length};
  }
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    if (ab.IsDetached()) return Bytes{nullptr, 0};
    return Bytes{static_cast<uint8_t*>(ab.Data()), ab.ByteLength()};
  }
  ThrowType(env, std::string(name) + " must be a Buffer, TypedArray, DataView or ArrayBuffer, got " +
                     Describe(v));
}

Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return BytesOf(info.Env(), RawArg(info, i), name);
}

Bytes ValueBytes(Napi::Env env, napi_value v, const std::string& name) { return BytesOf(env, v, name.c_str()); }

int64_t ValueInt(Napi::Env env, napi_value v, const std::string& name, int64_t min, int64_t max) {
  double d;
  if (!NumberOf(env, v, &d))
    ThrowType(env, name + " must be an integer, got " + Describe(v != nullptr ? Napi::Value(env, v) : env.Undefined()));
  return CheckInt(env, d, name.c_str(), min, max);
}

Bytes ArgByteRange(const Napi::CallbackInfo& info, size_t bufIdx, size_t offIdx, size_t lenIdx,
                   const char* name) {
  Bytes b = ArgBytes(info, bufIdx, name);
  int64_t off = ArgIntOr(info, offIdx, "offset", 0, INT32_MAX, 0);
  if (static_cast<uint64_t>(off) > b.length)
    ThrowRange(info.Env(), "offset " + std::to_string(off) + " is past the end of " + name + " (" +
                               std::to_string(b.length) + " bytes)");
  int64_t len = ArgIntOr(info, lenIdx, "length", 0, INT32_MAX, static_cast<int64_t>(b.length - off));
  if (static_cast<uint64_t>(off + len) > b.length)
    ThrowRange(info.Env(), "offset + length (" + std::to_string(off + len) + ") exceeds the size of " +
                               name + " (" + std::to_string(b.length) + " bytes)");
  return Bytes{b.data == nullptr ? nullptr : b.data + off, static_cast<size_t>(len)};
}

int32_t* ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name, size_t minLength) {
  napi_value raw = RawArg(info, i);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (raw == nullptr || napi_get_typedarray_info(info.Env(), raw, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array)
    ThrowType(info.Env(), std::string(name) + " must be an Int32Array, got " + Describe(Arg(info, i)));
  if (length < minLength)
    ThrowRange(info.Env(), std::string(name) + " holds " + std::to_string(length) +
                               " elements, fewer than the " + std::to_string(minLength) + " needed");
  if (minLength == 0) return nullptr;
  return static_cast<int32_t*>(data);
}

}  // namespace asyncore
