// Shared declarations of the addon: per-instance state and the helpers every
// syscall family uses (argument checks, the one error shape).
#pragma once

#include <napi.h>

#include <sys/socket.h>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/epoll.h>
#endif
#include <poll.h>

namespace asyncore {

// Per-instance (per Node environment / worker) state. Node-API gives every
// environment its own instance, so nothing here is shared between workers.
struct Binding {
  Napi::FunctionReference osErrorCtor;   // lib/errors.ts OSError, set by init()
  Napi::FunctionReference gaiErrorCtor;  // lib/errors.ts GaiError, set by init()
  std::vector<uint8_t> scratch;         // recv() reads here, then copies n bytes out
  // recvScratch() reads into this buffer, made by recvBuffer(): lib/socket.ts
  // keeps it private and copies out what was read. Held (and its ArrayBuffer
  // checked for detachment) so the pointer stays valid; a call naming an
  // older generation reads nothing, so a second caller cannot confuse the first.
  Napi::Reference<Napi::ArrayBuffer> recvArrayBuffer;
  uint8_t* recvBuf = nullptr;
  size_t recvBufLen = 0;
  int64_t recvBufGen = 0;               // which recvBuffer() call made it
  std::vector<pollfd> pollfds;          // reused by pollInto(), grown by doubling
  std::vector<int32_t> selectFds;       // selectInto()'s checked copy of a Float64Array of fds
#if defined(__linux__)
  std::vector<epoll_event> epollEvents; // reused by epollWait()
#endif
  int inWorker = -1;                    // readiness.cc: -1 until known, then 0 or 1
  std::vector<void*> waiters;           // async_wait.cc: this environment's open waiters
};

Binding* GetBinding(Napi::Env env);

// async_wait.cc: `fd` is about to be closed; a loopAsync waiter whose uv_poll_t
// watches it lets go of it first (libuv must not keep watching a number that
// may be reused), as libuv's uv__platform_invalidate_fd does for its own fds.
void InvalidatePolledFd(Napi::Env env, int fd);

// ---- errors.cc: the one place a failure becomes a JavaScript error ----------
//
// The convention, libuv's: a helper that makes a syscall yields its result
// (>= 0) or a negative errno, -errno (never -1 with errno aside, never a
// positive errno); the entry point passes that through Check(), which throws
// `new OSError(errno, syscall)` for a negative value. Argument errors are
// TypeError/RangeError (args.cc); resolver errors are GaiError (EAI_* codes).
// libuv's own calls (uv_poll_init, …) already return -errno and go straight
// to Check().
//
// The one exception is a result that is an answer rather than a failure on a
// hot path: such an entry point returns the -errno value itself (never a
// positive errno), and lib/ makes the failures among them into an error with
// throwIfErrno() (lib/errors.ts), which builds it here (errnoException).
// Today that is epollCtl only: the epoll backend steers its recovery by
// EEXIST, ENOENT, EBADF and EPERM, once per registration, without a throw.
// connect_ex's positive errno is Python's contract, not this seam's.
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall);
[[noreturn]] void ThrowGaiError(Napi::Env env, int gaiErr, const char* syscall, const char* host);
[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg);
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg);
// `new OSError(err, syscall[, message])`; without a message the class writes its own.
Napi::Value MakeOSError(Napi::Env env, int err, const char* syscall, const char* message = nullptr);

// A syscall's return value in the convention: -1 becomes -errno.
inline int64_t Sys(int64_t rc) { return rc == -1 ? -static_cast<int64_t>(errno) : rc; }
// f() retried while it fails with EINTR (never for close(): see Close), as Sys().
template <typename F>
inline int64_t SysRetry(F f) {
  int64_t rc;
  do rc = f();
  while (rc == -1 && errno == EINTR);
  return Sys(rc);
}
// rc when it is >= 0; a negative rc is thrown as OSError(-rc, syscall).
inline int64_t Check(Napi::Env env, int64_t rc, const char* syscall) {
  if (rc < 0) ThrowErrno(env, static_cast<int>(-rc), syscall);
  return rc;
}

// ---- args.cc: argument validation -----------------------------------------
// Every native entry point reads its arguments through these, so bad input
// from JavaScript becomes a TypeError/RangeError and never reaches a syscall.
int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name = "fd");
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name,
               int64_t min, int64_t max);
int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name,
                 int64_t min, int64_t max, int64_t dflt);
double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name);
bool ArgBoolOr(const Napi::CallbackInfo& info, size_t i, const char* name, bool dflt);

struct Bytes {
  uint8_t* data;
  size_t length;
};
// A Buffer, any TypedArray, a DataView or an ArrayBuffer; a detached buffer
// reads as zero-length.
Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name);
// The same checks for a value that is not a call argument (an array element):
// `name` says where it came from, e.g. "buffers[2]".
Bytes ValueBytes(Napi::Env env, napi_value v, const std::string& name);
int64_t ValueInt(Napi::Env env, napi_value v, const std::string& name, int64_t min, int64_t max);
// Narrow [offset, offset+length) of a byte argument, validating both.
Bytes ArgByteRange(const Napi::CallbackInfo& info, size_t bufIdx, size_t offIdx,
                   size_t lenIdx, const char* name);
// An Int32Array (for fd and event sets), with at least `minLength` elements.
int32_t* ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name,
                       size_t minLength);

// ---- address.cc: JS address <-> sockaddr -----------------------------------
// Resolve `host` into `out`'s address field (AF_INET or AF_INET6) as CPython's
// setipaddr(): '' is the wildcard, '<broadcast>' INADDR_BROADCAST, numeric
// forms parse directly, names go to getaddrinfo() (GaiError on failure).
void ResolveHost(Napi::Env env, int family, const std::string& host, sockaddr_storage* out);
socklen_t ParseAddress(Napi::Env env, int family, Napi::Value addr,
                       sockaddr_storage* out, const char* syscall);
Napi::Value FormatAddress(Napi::Env env, const sockaddr_storage* ss, socklen_t len);
// AF_INET as host * 65536 + port (one number); other families as FormatAddress().
Napi::Value FormatAddressCompact(Napi::Env env, const sockaddr_storage* ss, socklen_t len);

// ---- readiness.cc: the monotonic clock ----------------------------------------
int64_t NowMs();
// Milliseconds left until `deadline` (ms on the monotonic clock), never negative.
int RemainingMs(int64_t deadline);

// ---- registration ----------------------------------------------------------
void InitErrors(Napi::Env env, Napi::Object exports);
void InitSockets(Napi::Env env, Napi::Object exports);
void InitReadiness(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);
void InitAsyncWait(Napi::Env env, Napi::Object exports);   // async_wait.cc
void InitProcess(Napi::Env env, Napi::Object exports);     // process.cc
void InitNetdb(Napi::Env env, Napi::Object exports);       // netdb.cc
void InitMessages(Napi::Env env, Napi::Object exports);    // messages.cc

}  // namespace asyncore
