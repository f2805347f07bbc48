// Module entry. Context-aware: each Node environment (main thread or
// worker) gets its own Binding, freed with that environment.
#include "binding.h"

namespace asyncore {

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<Binding>(new Binding());
  InitErrors(env, exports);
  InitSockets(env, exports);
  InitReadiness(env, exports);
  InitConstants(env, exports);
  InitAsyncWait(env, exports);
  InitProcess(env, exports);
  InitNetdb(env, exports);
  InitMessages(env, exports);
  exports.Set("platform",
#if defined(__linux__)
              Napi::String::New(env, "linux")
#else
              Napi::String::New(env, "other")
#endif
  );
  return exports;
}

}  // namespace asyncore

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return asyncore::InitModule(env, exports);
}

NODE_API_MODULE(asyncore, Init)
