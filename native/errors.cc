// The one place where a failed syscall becomes a JavaScript error.
//
// lib/errors.ts defines the OSError class users see and hands its constructor
// to init(); from then on every native failure is `new OSError(errno, syscall)`.
// Before init() (or if the class is missing) a plain Error with the same
// fields is thrown, so the shape never depends on load order.
#include "binding.h"

#include <netdb.h>
#include <cerrno>
#include <cstring>
#include <string>

namespace asyncore {

Binding* GetBinding(Napi::Env env) { return env.GetInstanceData<Binding>(); }

Napi::Value MakeOSError(Napi::Env env, int err, const char* syscall, const char* message) {
  Binding* b = GetBinding(env);
  if (b != nullptr && !b->osErrorCtor.IsEmpty()) {
    if (message != nullptr)
      return b->osErrorCtor.New(
          {Napi::Number::New(env, err), Napi::String::New(env, syscall), Napi::String::New(env, message)});
    return b->osErrorCtor.New({Napi::Number::New(env, err), Napi::String::New(env, syscall)});
  }
  std::string msg = message != nullptr ? std::string(message)
                                       : std::string("[Errno ") + std::to_string(err) + "] " + strerror(err) +
                                             " (" + syscall + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e.Value();
}

void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw Napi::Error(env, MakeOSError(env, err, syscall));
}

// getaddrinfo() failures are not errno values; like Python's socket.gaierror
// they are OSErrors whose errno is the EAI_* value and whose code names it.
void ThrowGaiError(Napi::Env env, int gaiErr, const char* host) {
  if (gaiErr == EAI_SYSTEM) ThrowErrno(env, errno, "getaddrinfo");
  // The message goes to the constructor, so that the stack trace's first
  // line (captured there) carries it too.
  std::string message = std::string("[Errno ") + std::to_string(gaiErr) + "] " + gai_strerror(gaiErr) +
                        " (getaddrinfo " + host + ")";
  Napi::Object e = MakeOSError(env, 0, "getaddrinfo", message.c_str()).As<Napi::Object>();
  const char* code = "EAI_FAIL";
  switch (gaiErr) {
    case EAI_NONAME: code = "EAI_NONAME"; break;
    case EAI_AGAIN: code = "EAI_AGAIN"; break;
    case EAI_FAMILY: code = "EAI_FAMILY"; break;
    case EAI_SERVICE: code = "EAI_SERVICE"; break;
    case EAI_MEMORY: code = "EAI_MEMORY"; break;
#ifdef EAI_NODATA
    case EAI_NODATA: code = "EAI_NODATA"; break;
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: code = "EAI_ADDRFAMILY"; break;
#endif
    default: break;
  }
  e.Set("errno", Napi::Number::New(env, gaiErr));
  e.Set("code", Napi::String::New(env, code));
  throw Napi::Error(env, e);
}

void ThrowType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

void ThrowRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

static Napi::Value Init(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowType(info.Env(), "init(OSError): OSError must be a class");
  GetBinding(info.Env())->osErrorCtor = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

static Napi::Value Strerror(const Napi::CallbackInfo& info) {
  int err = static_cast<int>(ArgInt(info, 0, "errno", INT32_MIN, INT32_MAX));
  return Napi::String::New(info.Env(), strerror(err));
}

// For the rare non-throwing fast paths in lib/: the same error object, returned.
static Napi::Value ErrnoException(const Napi::CallbackInfo& info) {
  int err = static_cast<int>(ArgInt(info, 0, "errno", 0, INT32_MAX));
  if (info.Length() < 2 || !info[1].IsString()) ThrowType(info.Env(), "syscall must be a string");
  std::string syscall = info[1].As<Napi::String>().Utf8Value();
  return MakeOSError(info.Env(), err, syscall.c_str());
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("strerror", Napi::Function::New(env, Strerror, "strerror"));
  exports.Set("errnoException", Napi::Function::New(env, ErrnoException, "errnoException"));
}

}  // namespace asyncore
