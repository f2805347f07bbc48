// The one place where a failure becomes a JavaScript error.
//
// lib/errors.ts defines the OSError and GaiError classes users see and hands
// their constructors to init(); from then on every native failure is
// `new OSError(errno, syscall)` (or `new GaiError(eaiCode, syscall, …)` for
// the resolver). Before init() (or if a class is missing) a plain Error with
// the same fields is thrown, so the shape never depends on load order.
//
// Entry points reach this file through Check() (binding.h): helpers return
// -errno, and a negative result is thrown here. The few results that reach
// JavaScript without throwing (connect_ex's errno, Python's contract) are
// made into errors by lib/ with the same classes.
#include "binding.h"

#include <netdb.h>
#include <cerrno>
#include <cstring>
#include <string>

namespace asyncore {

Binding* GetBinding(Napi::Env env) { return env.GetInstanceData<Binding>(); }

// A plain Error carrying the fields, for a class not yet known.
static Napi::Value FallbackError(Napi::Env env, int err, const char* syscall, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e.Value();
}

Napi::Value MakeOSError(Napi::Env env, int err, const char* syscall, const char* message) {
  Binding* b = GetBinding(env);
  if (b != nullptr && !b->osErrorCtor.IsEmpty()) {
    if (message != nullptr)
      return b->osErrorCtor.New(
          {Napi::Number::New(env, err), Napi::String::New(env, syscall), Napi::String::New(env, message)});
    return b->osErrorCtor.New({Napi::Number::New(env, err), Napi::String::New(env, syscall)});
  }
  return FallbackError(env, err, syscall,
                       message != nullptr ? std::string(message)
                                          : std::string("[Errno ") + std::to_string(err) + "] " + strerror(err) +
                                                " (" + syscall + ")");
}

void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw Napi::Error(env, MakeOSError(env, err, syscall));
}

// getaddrinfo() failures are not errno values. As Python's socket.gaierror,
// they are a subclass of OSError whose errno is the EAI_* value (negative on
// glibc) and whose message is gai_strerror()'s; EAI_SYSTEM means "see errno",
// which Python raises as a plain OSError, and so does this.
void ThrowGaiError(Napi::Env env, int gaiErr, const char* syscall, const char* host) {
  if (gaiErr == EAI_SYSTEM) ThrowErrno(env, errno != 0 ? errno : EIO, syscall);
  Binding* b = GetBinding(env);
  if (b != nullptr && !b->gaiErrorCtor.IsEmpty()) {
    Napi::Value hostValue = host != nullptr ? Napi::String::New(env, host) : env.Undefined();
    throw Napi::Error(env, b->gaiErrorCtor.New({Napi::Number::New(env, gaiErr), Napi::String::New(env, syscall),
                                                env.Undefined(), hostValue}));
  }
  throw Napi::Error(env, FallbackError(env, gaiErr, syscall,
                                       std::string("[Errno ") + std::to_string(gaiErr) + "] " +
                                           gai_strerror(gaiErr) + " (" + syscall + ")"));
}

void ThrowType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

void ThrowRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

// init(OSError, GaiError?)
static Napi::Value Init(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowType(info.Env(), "init(OSError): OSError must be a class");
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsFunction())
    ThrowType(info.Env(), "init(OSError, GaiError): GaiError must be a class");
  Binding* b = GetBinding(info.Env());
  b->osErrorCtor = Napi::Persistent(info[0].As<Napi::Function>());
  if (info.Length() > 1 && info[1].IsFunction()) b->gaiErrorCtor = Napi::Persistent(info[1].As<Napi::Function>());
  return info.Env().Undefined();
}

static Napi::Value Strerror(const Napi::CallbackInfo& info) {
  int err = static_cast<int>(ArgInt(info, 0, "errno", INT32_MIN, INT32_MAX));
  return Napi::String::New(info.Env(), strerror(err));
}

// gaiStrerror(code): the resolver's text for an EAI_* value (GaiError's message).
static Napi::Value GaiStrerror(const Napi::CallbackInfo& info) {
  int err = static_cast<int>(ArgInt(info, 0, "code", INT32_MIN, INT32_MAX));
  return Napi::String::New(info.Env(), gai_strerror(err));
}

// For the rare non-throwing paths in lib/: the same error object, returned.
static Napi::Value ErrnoException(const Napi::CallbackInfo& info) {
  int err = static_cast<int>(ArgInt(info, 0, "errno", 0, INT32_MAX));
  if (info.Length() < 2 || !info[1].IsString()) ThrowType(info.Env(), "syscall must be a string");
  std::string syscall = info[1].As<Napi::String>().Utf8Value();
  return MakeOSError(info.Env(), err, syscall.c_str());
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("strerror", Napi::Function::New(env, Strerror, "strerror"));
  exports.Set("gaiStrerror", Napi::Function::New(env, GaiStrerror, "gaiStrerror"));
  exports.Set("errnoException", Napi::Function::New(env, ErrnoException, "errnoException"));
}

}  // namespace asyncore
