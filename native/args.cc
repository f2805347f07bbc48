// Argument validation for every native entry point.
#include "binding.h"

#include <cmath>
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

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
               int64_t max) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) ThrowType(info.Env(), std::string(name) + " must be an integer, got " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || std::floor(d) != d)
    ThrowType(info.Env(), std::string(name) + " must be an integer, got " + std::to_string(d));
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    ThrowRange(info.Env(), std::string(name) + " must be between " + std::to_string(min) + " and " +
                               std::to_string(max) + ", got " + std::to_string(static_cast<long long>(d)));
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

Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  Napi::Value v = Arg(info, i);
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    // A detached backing store reports a null base and zero length.
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    if (ab.IsDetached()) return Bytes{nullptr, 0};
    return Bytes{static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset(), ta.ByteLength()};
  }
  if (v.IsDataView()) {
    Napi::DataView dv = v.As<Napi::DataView>();
    Napi::ArrayBuffer ab = dv.ArrayBuffer();
    if (ab.IsDetached()) return Bytes{nullptr, 0};
    return Bytes{static_cast<uint8_t*>(ab.Data()) + dv.ByteOffset(), dv.ByteLength()};
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
