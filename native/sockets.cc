// Socket syscalls over plain fds. Policy (blocking flags, Python semantics)
// lives in lib/socket.ts; this file only validates, calls, retries EINTR and
// hands a failure (-errno) to Check(), which throws it (errors.cc).
#include "binding.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace asyncore {

#if defined(MSG_NOSIGNAL)
static const int kSendFlags = MSG_NOSIGNAL;  // a reset peer gives EPIPE, never SIGPIPE
#else
static const int kSendFlags = 0;  // macOS: SO_NOSIGPIPE is set on every socket instead
#endif

// The largest single recv()/read() we agree to allocate for.
static const int64_t kMaxRead = 1LL << 30;

static void SetCloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags != -1) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static void PrepareNewSocket(int fd) {
#if !defined(SOCK_CLOEXEC)
  SetCloexec(fd);
#endif
#if defined(SO_NOSIGPIPE)
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  (void)SetCloexec;
}

static int Family(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int>(ArgInt(info, i, "family", 0, INT32_MAX));
}

// ---- creation and teardown --------------------------------------------------

// socket() and socketpair() take the same (family, type, proto?); the type
// gets close-on-exec where the kernel can set it atomically.
struct SocketArgs {
  int family, type, proto;
};
static SocketArgs ReadSocketArgs(const Napi::CallbackInfo& info) {
  SocketArgs a;
  a.family = Family(info, 0);
  a.type = static_cast<int>(ArgInt(info, 1, "type", 0, INT32_MAX));
  a.proto = static_cast<int>(ArgIntOr(info, 2, "proto", 0, INT32_MAX, 0));
#if defined(SOCK_CLOEXEC)
  a.type |= SOCK_CLOEXEC;
#endif
  return a;
}

static Napi::Value Socket(const Napi::CallbackInfo& info) {
  SocketArgs a = ReadSocketArgs(info);
  int fd = static_cast<int>(Check(info.Env(), Sys(socket(a.family, a.type, a.proto)), "socket"));
  PrepareNewSocket(fd);
  return Napi::Number::New(info.Env(), fd);
}

static Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  SocketArgs a = ReadSocketArgs(info);
  int sv[2];
  Check(info.Env(), Sys(socketpair(a.family, a.type, a.proto, sv)), "socketpair");
  PrepareNewSocket(sv[0]);
  PrepareNewSocket(sv[1]);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(uint32_t{0}, Napi::Number::New(info.Env(), sv[0]));
  out.Set(uint32_t{1}, Napi::Number::New(info.Env(), sv[1]));
  return out;
}

static Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int p[2];
#if defined(__linux__)
  Check(info.Env(), Sys(pipe2(p, O_CLOEXEC)), "pipe");
#else
  Check(info.Env(), Sys(pipe(p)), "pipe");
  SetCloexec(p[0]);
  SetCloexec(p[1]);
#endif
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(uint32_t{0}, Napi::Number::New(info.Env(), p[0]));
  a.Set(uint32_t{1}, Napi::Number::New(info.Env(), p[1]));
  return a;
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  InvalidatePolledFd(info.Env(), fd);
  // Never retry close() on EINTR: on Linux the fd is already gone, and a
  // retry could close a number another thread has just been given.
  int64_t rc = Sys(close(fd));
  if (rc != -EINTR) Check(info.Env(), rc, "close");
  return info.Env().Undefined();
}

static Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int nfd = static_cast<int>(Check(info.Env(), Sys(fcntl(fd, F_DUPFD_CLOEXEC, 0)), "dup"));
  return Napi::Number::New(info.Env(), nfd);
}

// ---- fd flags -------------------------------------------------------------------

static Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool blocking = ArgBool(info, 1, "flag");
#if defined(FIONBIO)
  // One syscall (as CPython's setblocking), where fcntl takes two: every
  // accepted connection comes through here.
  int on = blocking ? 0 : 1;
  int64_t rc = Sys(ioctl(fd, FIONBIO, &on));
  if (rc == 0) return info.Env().Undefined();
  if (rc == -EBADF) Check(info.Env(), rc, "ioctl");
  // Not a socket the ioctl knows (some file types): fcntl below.
#endif
  int flags = static_cast<int>(Check(info.Env(), Sys(fcntl(fd, F_GETFL)), "fcntl"));
  int want = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
  if (want != flags) Check(info.Env(), Sys(fcntl(fd, F_SETFL, want)), "fcntl");
  return info.Env().Undefined();
}

static Napi::Value GetBlocking(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int flags = static_cast<int>(Check(info.Env(), Sys(fcntl(fd, F_GETFL)), "fcntl"));
  return Napi::Boolean::New(info.Env(), (flags & O_NONBLOCK) == 0);
}

static Napi::Value GetInheritable(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int flags = static_cast<int>(Check(info.Env(), Sys(fcntl(fd, F_GETFD)), "fcntl"));
  return Napi::Boolean::New(info.Env(), (flags & FD_CLOEXEC) == 0);
}

static Napi::Value SetInheritable(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool inheritable = ArgBool(info, 1, "inheritable");
  int flags = static_cast<int>(Check(info.Env(), Sys(fcntl(fd, F_GETFD)), "fcntl"));
  int want = inheritable ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC);
  Check(info.Env(), Sys(fcntl(fd, F_SETFD, want)), "fcntl");
  return info.Env().Undefined();
}

// ---- addresses and connection setup ----------------------------------------------

static Napi::Value Bind(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  sockaddr_storage ss;
  socklen_t len = ParseAddress(info.Env(), Family(info, 1), info[2], &ss, "bind");
  Check(info.Env(), Sys(bind(fd, reinterpret_cast<sockaddr*>(&ss), len)), "bind");
  return info.Env().Undefined();
}

static Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int backlog = static_cast<int>(ArgInt(info, 1, "backlog", INT32_MIN, INT32_MAX));
  if (backlog < 0) backlog = 0;  // as CPython: a negative backlog means 0
  Check(info.Env(), Sys(listen(fd, backlog)), "listen");
  return info.Env().Undefined();
}

// Wait up to timeoutMs (-1: forever) for a connect() in progress to end: 0,
// or -errno (-ETIMEDOUT when the time ran out), EINTR retried with the time
// left (PEP 475).
static int FinishConnect(int fd, int timeoutMs) {
  int64_t deadline = timeoutMs > 0 ? NowMs() + timeoutMs : 0;
  pollfd p = {fd, POLLOUT, 0};
  int ms = timeoutMs;
  int64_t rc;
  while ((rc = Sys(poll(&p, 1, ms))) == -EINTR)
    if (timeoutMs > 0) ms = RemainingMs(deadline);
  if (rc < 0) return static_cast<int>(rc);
  if (rc == 0) return -ETIMEDOUT;
  int err = 0;
  socklen_t len = sizeof err;
  int64_t got = Sys(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
  if (got < 0) return static_cast<int>(got);
  return -err;
}

// connect_ex(): returns 0 or the positive errno, Python's connect_ex()
// contract (the one errno that reaches JavaScript as a value); resolver and
// argument errors throw. A blocking connect() that EINTR interrupted is
// waited for, as CPython does (PEP 475): the connection goes on in the kernel.
static Napi::Value ConnectEx(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  sockaddr_storage ss;
  socklen_t len = ParseAddress(info.Env(), Family(info, 1), info[2], &ss, "connect");
  int64_t rc = Sys(connect(fd, reinterpret_cast<sockaddr*>(&ss), len));
  if (rc == -EINTR) {
    int flags = fcntl(fd, F_GETFL);
    rc = (flags != -1 && (flags & O_NONBLOCK)) ? -EINPROGRESS : FinishConnect(fd, -1);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(-rc));
}

// connectWait(fd, timeoutMs): wait for a non-blocking connect() in progress
// to end (createConnection's timeout); throws its error, or OSError
// ETIMEDOUT "timed out" (Python's socket.timeout) when the time runs out.
static Napi::Value ConnectWait(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int timeoutMs = static_cast<int>(ArgInt(info, 1, "timeoutMs", -1, INT32_MAX));
  int rc = FinishConnect(fd, timeoutMs);
  if (rc == -ETIMEDOUT) throw Napi::Error(info.Env(), MakeOSError(info.Env(), ETIMEDOUT, "connect", "timed out"));
  Check(info.Env(), rc, "connect");
  return info.Env().Undefined();
}

// accept(fd, compact?) -> [fd, address]; compact: an AF_INET address as one number (FormatAddressCompact)
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool compact = ArgBoolOr(info, 1, "compact", false);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int nfd;
  do {
    len = sizeof ss;
#if defined(__linux__)
    nfd = accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
#else
    nfd = accept(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (nfd != -1) SetCloexec(nfd);
#endif
  } while (nfd == -1 && errno == EINTR);
  Check(info.Env(), Sys(nfd), "accept");
#if !defined(__linux__)
  // BSD and macOS hand the listener's O_NONBLOCK down to the accepted socket;
  // Python's accept() (and lib/socket.ts) promise a blocking one.
  int fl = fcntl(nfd, F_GETFL);
  if (fl != -1 && (fl & O_NONBLOCK)) fcntl(nfd, F_SETFL, fl & ~O_NONBLOCK);
#endif
  PrepareNewSocket(nfd);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(uint32_t{0}, Napi::Number::New(info.Env(), nfd));
  a.Set(uint32_t{1}, compact ? FormatAddressCompact(info.Env(), &ss, len) : FormatAddress(info.Env(), &ss, len));
  return a;
}

static Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int how = static_cast<int>(ArgInt(info, 1, "how", 0, 2));
  Check(info.Env(), Sys(shutdown(fd, how)), "shutdown");
  return info.Env().Undefined();
}

// getsockname/getpeername(fd, compact?) -> address; compact as for accept()
static Napi::Value NameOf(const Napi::CallbackInfo& info, bool peer) {
  int fd = ArgFd(info, 0);
  bool compact = ArgBoolOr(info, 1, "compact", false);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof ss;
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  Check(info.Env(), Sys(rc), peer ? "getpeername" : "getsockname");
  return compact ? FormatAddressCompact(info.Env(), &ss, len) : FormatAddress(info.Env(), &ss, len);
}
static Napi::Value Getsockname(const Napi::CallbackInfo& info) { return NameOf(info, false); }
static Napi::Value Getpeername(const Napi::CallbackInfo& info) { return NameOf(info, true); }

// ---- data ---------------------------------------------------------------------------

// send(fd, data, offset?, length?, flags?) -> bytes sent
static Napi::Value Send(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes b = ArgByteRange(info, 1, 2, 3, "data");
  int flags = static_cast<int>(ArgIntOr(info, 4, "flags", 0, INT32_MAX, 0));
  int64_t n = Check(info.Env(), SysRetry([&] { return send(fd, b.data, b.length, flags | kSendFlags); }), "send");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// sendto(fd, data, offset, length, flags, family, address) -> bytes sent
static Napi::Value Sendto(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  // The address first: reading it can run JavaScript (an accessor on the
  // array), which could detach or shrink the data's buffer. Once the bytes
  // are taken, nothing may run JavaScript before the syscall.
  sockaddr_storage ss;
  socklen_t len = ParseAddress(info.Env(), Family(info, 5), info[6], &ss, "sendto");
  Bytes b = ArgByteRange(info, 1, 2, 3, "data");
  int flags = static_cast<int>(ArgIntOr(info, 4, "flags", 0, INT32_MAX, 0));
  int64_t n = Check(info.Env(), SysRetry([&] {
    return sendto(fd, b.data, b.length, flags | kSendFlags, reinterpret_cast<sockaddr*>(&ss), len);
  }), "sendto");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// Reads go to the per-instance scratch buffer and exactly the bytes received
// are copied out: one allocation of the right size per call.
static uint8_t* Scratch(Napi::Env env, size_t n) {
  std::vector<uint8_t>& s = GetBinding(env)->scratch;
  if (s.size() < n) s.resize(n < 65536 ? 65536 : n);
  return s.data();
}

static const size_t kScratchKeep = 1 << 20;  // beyond this, read into a fresh buffer

static Napi::Value ReadInto(Napi::Env env, int fd, size_t n, int flags, bool useRecv,
                            const char* syscall) {
  if (n == 0) return Napi::Buffer<uint8_t>::New(env, 0);
  if (n > kScratchKeep) {
    Napi::Buffer<uint8_t> big = Napi::Buffer<uint8_t>::New(env, n);
    int64_t r = Check(env, SysRetry([&] { return useRecv ? recv(fd, big.Data(), n, flags) : read(fd, big.Data(), n); }),
                      syscall);
    if (static_cast<size_t>(r) == n) return big;
    return Napi::Buffer<uint8_t>::Copy(env, big.Data(), static_cast<size_t>(r));
  }
  uint8_t* buf = Scratch(env, n);
  int64_t r = Check(env, SysRetry([&] { return useRecv ? recv(fd, buf, n, flags) : read(fd, buf, n); }), syscall);
  return Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(r));
}

// recv(fd, n, flags?) -> Buffer of the bytes received (empty at EOF)
static Napi::Value Recv(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  size_t n = static_cast<size_t>(ArgInt(info, 1, "bufsize", 0, kMaxRead));
  int flags = static_cast<int>(ArgIntOr(info, 2, "flags", 0, INT32_MAX, 0));
  return ReadInto(info.Env(), fd, n, flags, true, "recv");
}

// recvInto(fd, buffer, offset?, length?, flags?) -> bytes received; no allocation
static Napi::Value RecvInto(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes b = ArgByteRange(info, 1, 2, 3, "buffer");
  int flags = static_cast<int>(ArgIntOr(info, 4, "flags", 0, INT32_MAX, 0));
  int64_t r = Check(info.Env(), SysRetry([&] { return recv(fd, b.data, b.length, flags); }), "recv");
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// recvBuffer(size) -> [Buffer, generation]: a new buffer of `size` bytes that
// recvScratch() reads into from now on (the previous one is let go). The hot
// recv path: with the buffer known here, a call passes only integers, and
// lib/socket.ts copies out exactly the bytes received.
static Napi::Value RecvBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t size = static_cast<size_t>(ArgInt(info, 0, "size", 1, static_cast<int64_t>(kScratchKeep)));
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, size);
  Binding* bd = GetBinding(env);
  bd->recvArrayBuffer = Napi::Persistent(buf.ArrayBuffer());
  bd->recvBuf = buf.Data();
  bd->recvBufLen = size;
  bd->recvBufGen = bd->recvBufGen == INT32_MAX ? 1 : bd->recvBufGen + 1;
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, buf);
  out.Set(uint32_t{1}, Napi::Number::New(env, bd->recvBufGen));
  return out;
}

// recvScratch(fd, n, flags, generation) -> bytes received into the buffer of
// that recvBuffer() generation; -1, reading nothing, when another buffer has
// replaced it since (the caller then asks for a new one).
static Napi::Value RecvScratch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Binding* bd = GetBinding(env);
  int fd = ArgFd(info, 0);
  int64_t n = ArgInt(info, 1, "bufsize", 0, kMaxRead);
  int flags = static_cast<int>(ArgInt(info, 2, "flags", 0, INT32_MAX));
  int64_t gen = ArgInt(info, 3, "generation", 0, INT32_MAX);
  bool detached = true;
  if (bd->recvBuf != nullptr && gen == bd->recvBufGen) {
    napi_value ab = bd->recvArrayBuffer.Value();
    NAPI_THROW_IF_FAILED(env, napi_is_detached_arraybuffer(env, ab, &detached), Napi::Value());
  }
  if (detached || static_cast<uint64_t>(n) > bd->recvBufLen) return Napi::Number::New(env, -1);
  int64_t r = Check(env, SysRetry([&] { return recv(fd, bd->recvBuf, static_cast<size_t>(n), flags); }), "recv");
  return Napi::Number::New(env, static_cast<double>(r));
}

// recvfrom(fd, n, flags?) -> [Buffer, address]
static Napi::Value Recvfrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  size_t n = static_cast<size_t>(ArgInt(info, 1, "bufsize", 0, kScratchKeep));
  int flags = static_cast<int>(ArgIntOr(info, 2, "flags", 0, INT32_MAX, 0));
  uint8_t* buf = Scratch(env, n == 0 ? 1 : n);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int64_t r = Check(env, SysRetry([&] {
    len = sizeof ss;
    return recvfrom(fd, buf, n, flags, reinterpret_cast<sockaddr*>(&ss), &len);
  }), "recvfrom");
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(uint32_t{0}, Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(r)));
  a.Set(uint32_t{1}, len == 0 ? env.Null() : FormatAddress(env, &ss, len));
  return a;
}

// read(fd, n) / write(fd, data, offset?, length?): for FileWrapper and pipes.
static Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  size_t n = static_cast<size_t>(ArgInt(info, 1, "n", 0, kMaxRead));
  return ReadInto(info.Env(), fd, n, 0, false, "read");
}

static Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes b = ArgByteRange(info, 1, 2, 3, "data");
  int64_t n = Check(info.Env(), SysRetry([&] { return write(fd, b.data, b.length); }), "write");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// ---- options --------------------------------------------------------------------------

// setsockopt(fd, level, option, value: integer | bytes)
static Napi::Value Setsockopt(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int level = static_cast<int>(ArgInt(info, 1, "level", INT32_MIN, INT32_MAX));
  int opt = static_cast<int>(ArgInt(info, 2, "option", INT32_MIN, INT32_MAX));
  int rc;
  if (info.Length() > 3 && info[3].IsNumber()) {
    int v = static_cast<int>(ArgInt(info, 3, "value", INT32_MIN, UINT32_MAX));
    rc = setsockopt(fd, level, opt, &v, sizeof v);
  } else {
    Bytes b = ArgBytes(info, 3, "value");
    rc = setsockopt(fd, level, opt, b.data, static_cast<socklen_t>(b.length));
  }
  Check(info.Env(), Sys(rc), "setsockopt");
  return info.Env().Undefined();
}

// getsockopt(fd, level, option, buflen?) -> integer, or a Buffer of up to buflen bytes
static Napi::Value Getsockopt(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int level = static_cast<int>(ArgInt(info, 1, "level", INT32_MIN, INT32_MAX));
  int opt = static_cast<int>(ArgInt(info, 2, "option", INT32_MIN, INT32_MAX));
  if (info.Length() < 4 || info[3].IsUndefined() || info[3].IsNull()) {
    int v = 0;
    socklen_t len = sizeof v;
    Check(info.Env(), Sys(getsockopt(fd, level, opt, &v, &len)), "getsockopt");
    return Napi::Number::New(info.Env(), v);
  }
  socklen_t buflen = static_cast<socklen_t>(ArgInt(info, 3, "buflen", 1, 1024));
  uint8_t buf[1024];
  memset(buf, 0, sizeof buf);
  Check(info.Env(), Sys(getsockopt(fd, level, opt, buf, &buflen)), "getsockopt");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf, buflen);
}

// ---- the echo's two calls, straight through Node-API --------------------------------
//
// send(fd, data) and recvScratch(fd, n, flags, generation) run once per echo.
// Through node-addon-api each paid for its wrapper (a CallbackInfo of six
// arguments, a try/catch) and the general argument readers: about a third of
// the call (callgrind). These entries read the usual shape of their arguments
// with one Node-API call each and make the syscall; any other shape goes to the
// ordinary entry point above (Send, RecvScratch), which validates and throws
// exactly as every other call does. The syscall follows the convention
// (SysRetry), and a negative result is thrown through Check(), as there.

// `v` as an integer in [0, max] when it is one (the common case); false for
// anything else, which the ordinary entry point then explains.
static inline bool PlainInt(napi_env env, napi_value v, int64_t max, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= static_cast<double>(max))) return false;
  *out = static_cast<int64_t>(d);
  return static_cast<double>(*out) == d;
}

// The ordinary (node-addon-api) entry point, its exceptions made JavaScript ones.
static napi_value Ordinary(napi_env env, napi_callback_info cbinfo, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    return fn(info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// A syscall's result in the convention: the count, or the OSError thrown for -errno.
static napi_value Result(napi_env env, int64_t rc, const char* syscall) {
  if (rc < 0) {
    try {
      Check(Napi::Env(env), rc, syscall);
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
    return nullptr;
  }
  napi_value r = nullptr;
  napi_create_int64(env, rc, &r);
  return r;
}

static napi_value SendDirect(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr) != napi_ok || argc != 2 ||
      !PlainInt(env, argv[0], INT32_MAX, &fd) ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      (type != napi_uint8_array && type != napi_int8_array && type != napi_uint8_clamped_array))
    return Ordinary(env, cbinfo, Send);
  if (length == 0) data = nullptr;  // a detached view: no data, nothing sent
  return Result(env, SysRetry([&] { return send(static_cast<int>(fd), data, length, kSendFlags); }), "send");
}

static napi_value RecvScratchDirect(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 5;
  napi_value argv[5];
  int64_t fd, n, flags, gen;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr) != napi_ok || argc != 4 ||
      !PlainInt(env, argv[0], INT32_MAX, &fd) || !PlainInt(env, argv[1], kMaxRead, &n) ||
      !PlainInt(env, argv[2], INT32_MAX, &flags) || !PlainInt(env, argv[3], INT32_MAX, &gen))
    return Ordinary(env, cbinfo, RecvScratch);
  Binding* bd = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&bd));
  bool detached = true;
  if (bd != nullptr && bd->recvBuf != nullptr && gen == bd->recvBufGen) {
    napi_value ab;
    if (napi_get_reference_value(env, bd->recvArrayBuffer, &ab) != napi_ok ||
        napi_is_detached_arraybuffer(env, ab, &detached) != napi_ok)
      return Ordinary(env, cbinfo, RecvScratch);
  }
  if (detached || static_cast<uint64_t>(n) > bd->recvBufLen) {
    napi_value stale;
    napi_create_int32(env, -1, &stale);
    return stale;
  }
  int64_t rc = SysRetry([&] {
    return recv(static_cast<int>(fd), bd->recvBuf, static_cast<size_t>(n), static_cast<int>(flags));
  });
  return Result(env, rc, "recv");
}

void InitSockets(Napi::Env env, Napi::Object exports) {
  struct Entry { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); };
  static const Entry entries[] = {
      {"socket", Socket},           {"socketpair", Socketpair},   {"pipe", Pipe},
      {"close", Close},             {"dup", Dup},                 {"setBlocking", SetBlocking},
      {"getBlocking", GetBlocking}, {"getInheritable", GetInheritable},
      {"setInheritable", SetInheritable},
      {"bind", Bind},               {"listen", Listen},           {"connectEx", ConnectEx},     {"connectWait", ConnectWait},
      {"accept", Accept},           {"shutdown", Shutdown},       {"getsockname", Getsockname},
      {"getpeername", Getpeername}, {"sendto", Sendto},
      {"recv", Recv},               {"recvInto", RecvInto},       {"recvfrom", Recvfrom},
      {"recvBuffer", RecvBuffer},
      {"read", Read},               {"write", Write},             {"setsockopt", Setsockopt},
      {"getsockopt", Getsockopt},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  struct Direct { const char* name; napi_callback fn; };
  static const Direct direct[] = {{"send", SendDirect}, {"recvScratch", RecvScratchDirect}};
  for (const Direct& d : direct) {
    napi_value fn;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, d.name, NAPI_AUTO_LENGTH, d.fn, nullptr, &fn));
    exports.Set(d.name, Napi::Value(env, fn));
  }
}

}  // namespace asyncore
