// Process limits Node has no API for: RLIMIT_NOFILE (how many fds this
// process may hold open). A loop serving ten thousand channels needs more
// than the usual soft limit of 1024.
#include "binding.h"

#include <sys/resource.h>

#include <cerrno>
#include <cmath>
#include <string>

namespace asyncore {

static Napi::Value LimitValue(Napi::Env env, rlim_t v) {
  if (v == RLIM_INFINITY) return Napi::Number::New(env, INFINITY);
  return Napi::Number::New(env, static_cast<double>(v));
}

// getNofileLimit() -> { soft, hard } (Infinity for "unlimited")
static Napi::Value GetNofileLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rlimit rl;
  Check(env, Sys(getrlimit(RLIMIT_NOFILE, &rl)), "getrlimit");
  Napi::Object out = Napi::Object::New(env);
  out.Set("soft", LimitValue(env, rl.rlim_cur));
  out.Set("hard", LimitValue(env, rl.rlim_max));
  return out;
}

static rlim_t ArgLimit(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d = ArgNumber(info, i, name);
  if (std::isinf(d) && d > 0) return RLIM_INFINITY;
  return static_cast<rlim_t>(ArgInt(info, i, name, 0, INT32_MAX));
}

// setNofileLimit(soft[, hard]) -> { soft, hard } now in force. Raising the
// soft limit up to the hard one needs no privilege; a soft limit above the
// hard one is a RangeError (setrlimit's EINVAL, said in words).
static Napi::Value SetNofileLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rlimit rl;
  Check(env, Sys(getrlimit(RLIMIT_NOFILE, &rl)), "getrlimit");
  rl.rlim_cur = ArgLimit(info, 0, "soft");
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) rl.rlim_max = ArgLimit(info, 1, "hard");
  if (rl.rlim_max != RLIM_INFINITY && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > rl.rlim_max))
    ThrowRange(env, "soft limit " + (rl.rlim_cur == RLIM_INFINITY ? std::string("Infinity") : std::to_string(rl.rlim_cur)) +
                        " is above the hard limit " + std::to_string(rl.rlim_max));
  Check(env, Sys(setrlimit(RLIMIT_NOFILE, &rl)), "setrlimit");
  return GetNofileLimit(info);
}

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("getNofileLimit", Napi::Function::New(env, GetNofileLimit, "getNofileLimit"));
  exports.Set("setNofileLimit", Napi::Function::New(env, SetNofileLimit, "setNofileLimit"));
}

}  // namespace asyncore
