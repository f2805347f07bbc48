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

// A number as JavaScript would print it (1.5, 1e+308, -Infinity), for messages.
// Never through an integer cast: a double out of the integer's range (or
// NaN, or an infinity) converted to an integer is undefined behaviour.
static std::string NumberText(double d) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// min and max must be exactly representable as doubles (|x| <= 2**53).
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
               int64_t max) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) ThrowType(info.Env(), std::string(name) + " must be an integer, got " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || std::floor(d) != d)
    ThrowType(info.Env(), std::string(name) + " must be an integer, got " + NumberText(d));
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    ThrowRange(info.Env(), std::string(name) + " must be between " + std::to_string(min) + " and " +
                               std::to_string(max) + ", got " + NumberText(d));
  return static_cast<int64_t>(d);
}

int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
                 int64_t max, int64_t dflt) {
  Napi::Value v = Arg(info, i);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  return ArgInt(info, i, name, min, max);
}

int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<int>(ArgInt(info, i, name, 0, INT32_MAX));
}

double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number, got " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d)) ThrowType(info.Env(), std::string(name) + " must be a number, got NaN");
  return d;
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsBoolean()) ThrowType(info.Env(), std::string(name) + " must be a boolean, got " + Describe(v));
  return v.As<Napi::Boolean>().Value();
}

// The data pointer comes from napi_get_typedarray_info()/napi_get_dataview_info()
// themselves (already offset): going through the view's ArrayBuffer would fail
// with a plain "Invalid argument" Error for a view of a SharedArrayBuffer,
// which napi_get_arraybuffer_info() refuses.
Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  Napi::Value v = Arg(info, i);
  if (v.IsTypedArray()) {
    size_t length = 0;
    void* data = nullptr;
    napi_typedarray_type type;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr),
                         (Bytes{nullptr, 0}));
    size_t size = 0;
    switch (type) {
      case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: size = 1; break;
      case napi_int16_array: case napi_uint16_array: size = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: size = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: size = 8; break;
      default: ThrowType(env, std::string(name) + " is a TypedArray of an unsupported element type");
    }
    // A detached view reports zero elements (and no data).
    if (length == 0 || data == nullptr) return Bytes{nullptr, 0};
    return Bytes{static_cast<uint8_t*>(data), length * size};
  }
  if (v.IsDataView()) {
    size_t length = 0;
    void* data = nullptr;
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
  Napi::Value v = Arg(info, i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    ThrowType(info.Env(), std::string(name) + " must be an Int32Array, got " + Describe(v));
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  if (a.ElementLength() < minLength)
    ThrowRange(info.Env(), std::string(name) + " holds " + std::to_string(a.ElementLength()) +
                               " elements, fewer than the " + std::to_string(minLength) + " needed");
  if (minLength == 0) return nullptr;
  return a.Data();
}

}  // namespace asyncore
