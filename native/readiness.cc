// select(), poll() and epoll over caller-owned Int32Arrays.
//
// Each wait is one native call: the caller fills an fd array and an event
// array once (and reuses them across passes); results are written back in
// place. An interrupted wait (EINTR) is retried with the time that is left,
// as CPython does since PEP 475, so a signal never shortens or ends a wait.
#include "binding.h"

#include <uv.h>

#include <sys/select.h>
#include <time.h>
#include <cerrno>
#include <cmath>
#include <string>

namespace asyncore {

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int RemainingMs(int64_t deadline) {
  int64_t left = deadline - NowMs();
  if (left < 0) return 0;
  return left > INT32_MAX ? INT32_MAX : static_cast<int>(left);
}

// ---- waits a terminated worker does not sit out ---------------------------
//
// worker.terminate() stops the worker's JavaScript, but a thread blocked in
// select()/poll()/epoll_wait() gets no signal: it would sit out its timeout
// (30 s by default for loop()) before the environment can be torn down. So
// in a worker a long wait is cut into slices of kSliceMs, and between slices
// the wait asks whether the environment is stopping; if it is, the wait ends
// as if it had timed out and the JavaScript it returns to is not run. The
// main thread's waits are not sliced: nothing but the process's end stops it.

static const int kSliceMs = 100;

static bool InWorker(Napi::Env env) {
  Binding* b = GetBinding(env);
  if (b->inWorker < 0) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    b->inWorker = loop != nullptr && loop != uv_default_loop() ? 1 : 0;
  }
  return b->inWorker == 1;
}

// Whether the environment is being torn down. Node refuses to run
// JavaScript in a stopping environment, and every Node-API call that may run
// JavaScript (a property get may run a getter) checks that first and fails.
static bool EnvStopping(Napi::Env env) {
  napi_value global, value;
  if (napi_get_global(env, &global) != napi_ok) return true;
  return napi_get_named_property(env, global, "undefined", &value) != napi_ok;
}

// Bits of the per-fd mask given to selectInto().
enum { kSelRead = 1, kSelWrite = 2, kSelExcept = 4 };

// select()'s longest finite timeout, in seconds (about 31,700 years): the
// deadline is kept in int64 milliseconds, and a double beyond that range
// must never be converted to an integer (undefined behaviour).
static const double kMaxSelectTimeout = 1e12;

// A timeout in seconds: negative is refused (as Python's select does); null,
// undefined or +Infinity is "forever" (returned as a negative value); a
// finite timeout too large to keep is a RangeError (Python: OverflowError).
static double TimeoutSeconds(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return -1;
  double t = ArgNumber(info, i, "timeout");
  if (t < 0) ThrowRange(info.Env(), "timeout must be non-negative");
  if (std::isinf(t)) return -1;
  if (t > kMaxSelectTimeout) ThrowRange(info.Env(), "timeout is too large (at most 1e12 seconds)");
  return t;
}

// FD_SET()/FD_ISSET() outside [0, FD_SETSIZE) touch memory outside the
// fd_set. The fds are validated before the wait, and checked again at each
// use because an Int32Array on a SharedArrayBuffer can change in between.
static bool InFdSet(int fd) { return fd >= 0 && fd < FD_SETSIZE; }

// selectInto(fds: Int32Array, masks: Int32Array, n, timeoutSeconds | null) -> ready count
// masks[i] holds kSelRead|kSelWrite|kSelExcept on entry and the ready subset on return.
static Napi::Value SelectInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = static_cast<size_t>(ArgInt(info, 2, "n", 0, INT32_MAX));
  int32_t* fds = ArgInt32Array(info, 0, "fds", n);
  int32_t* masks = ArgInt32Array(info, 1, "masks", n);
  double timeout = TimeoutSeconds(info, 3);

  int maxfd = -1;
  for (size_t i = 0; i < n; i++) {
    int fd = fds[i];
    // FD_SET past FD_SETSIZE writes outside the fd_set: refuse it up front.
    if (!InFdSet(fd))
      ThrowRange(env, "filedescriptor out of range in select(): fd " + std::to_string(fd) +
                          (fd < 0 ? " is negative" : " is not below FD_SETSIZE (" + std::to_string(FD_SETSIZE) + ")") +
                          "; use poll or epoll for fds this high (select.poll(), select.epoll(), "
                          "or loop({ backend: 'poll' | 'epoll' }))");
    if (fd > maxfd) maxfd = fd;
  }

  int64_t deadline = timeout < 0 ? 0 : NowMs() + static_cast<int64_t>(std::ceil(timeout * 1000));
  double left = timeout;  // the first try uses the exact request, sub-millisecond included
  const double slice = InWorker(env) ? kSliceMs / 1000.0 : -1;
  fd_set r, w, x;
  int rc;
  for (;;) {
    bool sliced = slice > 0 && (left < 0 || left > slice);
    double step = sliced ? slice : left;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    for (size_t i = 0; i < n; i++) {
      int fd = fds[i];
      if (!InFdSet(fd)) continue;
      if (masks[i] & kSelRead) FD_SET(fd, &r);
      if (masks[i] & kSelWrite) FD_SET(fd, &w);
      if (masks[i] & kSelExcept) FD_SET(fd, &x);
    }
    timeval tv;
    timeval* tvp = nullptr;
    if (step >= 0) {
      tv.tv_sec = static_cast<time_t>(step);
      tv.tv_usec = static_cast<suseconds_t>((step - static_cast<double>(tv.tv_sec)) * 1e6);
      tvp = &tv;
    }
    rc = select(maxfd + 1, &r, &w, &x, tvp);
    if (rc > 0 || (rc == 0 && !sliced) || (rc == -1 && errno != EINTR)) break;
    if (sliced && EnvStopping(env)) {
      rc = 0;
      break;
    }
    if (timeout >= 0) {
      int64_t ms = deadline - NowMs();
      left = ms > 0 ? static_cast<double>(ms) / 1000.0 : 0;
    }
  }
  if (rc == -1) ThrowErrno(env, errno, "select");
  int ready = 0;
  for (size_t i = 0; i < n; i++) {
    int m = 0;
    int fd = fds[i];
    if (rc > 0 && InFdSet(fd)) {
      if ((masks[i] & kSelRead) && FD_ISSET(fd, &r)) m |= kSelRead;
      if ((masks[i] & kSelWrite) && FD_ISSET(fd, &w)) m |= kSelWrite;
      if ((masks[i] & kSelExcept) && FD_ISSET(fd, &x)) m |= kSelExcept;
    }
    masks[i] = m;
    if (m != 0) ready++;
  }
  return Napi::Number::New(env, ready);
}

// A poll()/epoll timeout in milliseconds: negative (or null) waits forever;
// a fraction of a millisecond rounds up (as CPython's), so a short positive
// timeout never turns into a busy poll(0).
static int TimeoutMs(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return -1;
  double t = ArgNumber(info, i, "timeout");
  if (t < 0 || std::isinf(t)) return -1;
  if (t > INT32_MAX) ThrowRange(info.Env(), "timeout is too large");
  return static_cast<int>(std::ceil(t));
}

// Runs `wait(ms)` until it does not fail with EINTR, each retry with the time
// left; in a worker in slices, ending early when the worker is terminated.
template <typename F>
static int RetryWait(Napi::Env env, int timeoutMs, F wait) {
  const bool slice = InWorker(env);
  int64_t deadline = timeoutMs > 0 ? NowMs() + timeoutMs : 0;
  int ms = timeoutMs;
  for (;;) {
    bool sliced = slice && (ms < 0 || ms > kSliceMs);
    int rc = wait(sliced ? kSliceMs : ms);
    if (rc > 0 || (rc == 0 && !sliced) || (rc == -1 && errno != EINTR)) return rc;
    if (sliced && EnvStopping(env)) return 0;
    if (timeoutMs > 0) ms = RemainingMs(deadline);
  }
}

// pollInto(fds: Int32Array, events: Int32Array, revents: Int32Array, n, timeoutMs) -> ready count
static Napi::Value PollInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = static_cast<size_t>(ArgInt(info, 3, "n", 0, INT32_MAX));
  int32_t* fds = ArgInt32Array(info, 0, "fds", n);
  int32_t* events = ArgInt32Array(info, 1, "events", n);
  int32_t* revents = ArgInt32Array(info, 2, "revents", n);
  int timeoutMs = TimeoutMs(info, 4);

  std::vector<pollfd>& pfds = GetBinding(env)->pollfds;
  if (pfds.size() < n) {
    size_t cap = pfds.empty() ? 64 : pfds.size();
    while (cap < n) cap *= 2;
    pfds.resize(cap);
  }
  for (size_t i = 0; i < n; i++) {
    // poll() ignores negative fds; keep them as they are so the result lines up.
    pfds[i].fd = fds[i];
    pfds[i].events = static_cast<short>(events[i]);
    pfds[i].revents = 0;
  }
  pollfd* base = n == 0 ? nullptr : pfds.data();
  int rc = RetryWait(env, timeoutMs, [&](int ms) { return poll(base, static_cast<nfds_t>(n), ms); });
  if (rc == -1) ThrowErrno(env, errno, "poll");
  for (size_t i = 0; i < n; i++) revents[i] = static_cast<uint16_t>(pfds[i].revents);
  return Napi::Number::New(env, rc);
}

#if defined(__linux__)
static Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd == -1) ThrowErrno(info.Env(), errno, "epoll_create1");
  return Napi::Number::New(info.Env(), fd);
}

// epollCtl(epfd, op, fd, events[, tag]) -> 0, or the errno (callers decide: EEXIST,
// ENOENT and EPERM are answers, not failures, for a readiness loop).
// The event data holds the fd (low 32 bits) and `tag` (high 32 bits, default 0),
// which epollWait() can hand back: a registration the kernel kept for an fd
// number that has since been closed and reused carries an old tag.
static Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  int epfd = ArgFd(info, 0, "epfd");
  int op = static_cast<int>(ArgInt(info, 1, "op", 1, 3));
  int fd = ArgFd(info, 2);
  uint32_t events = static_cast<uint32_t>(ArgInt(info, 3, "events", INT32_MIN, UINT32_MAX));
  uint32_t tag = static_cast<uint32_t>(ArgIntOr(info, 4, "tag", INT32_MIN, UINT32_MAX, 0));
  epoll_event ev;
  ev.events = events;
  ev.data.u64 = (static_cast<uint64_t>(tag) << 32) | static_cast<uint32_t>(fd);
  int rc = epoll_ctl(epfd, op, fd, &ev);
  return Napi::Number::New(info.Env(), rc == -1 ? errno : 0);
}

// epollWait(epfd, fds: Int32Array, events: Int32Array, maxevents, timeoutMs[, tags: Int32Array]) -> count
static Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = ArgFd(info, 0, "epfd");
  size_t maxevents = static_cast<size_t>(ArgInt(info, 3, "maxevents", 1, 1 << 24));
  int32_t* fds = ArgInt32Array(info, 1, "fds", maxevents);
  int32_t* evs = ArgInt32Array(info, 2, "events", maxevents);
  int timeoutMs = TimeoutMs(info, 4);
  bool wantTags = info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull();
  int32_t* tags = wantTags ? ArgInt32Array(info, 5, "tags", maxevents) : nullptr;
  std::vector<epoll_event>& buf = GetBinding(env)->epollEvents;
  if (buf.size() < maxevents) buf.resize(maxevents);
  int rc = RetryWait(env, timeoutMs, [&](int ms) {
    return epoll_wait(epfd, buf.data(), static_cast<int>(maxevents), ms);
  });
  if (rc == -1) ThrowErrno(env, errno, "epoll_wait");
  for (int i = 0; i < rc; i++) {
    fds[i] = static_cast<int32_t>(buf[i].data.u64 & 0xffffffffu);
    evs[i] = static_cast<int32_t>(buf[i].events);
    if (tags != nullptr) tags[i] = static_cast<int32_t>(buf[i].data.u64 >> 32);
  }
  return Napi::Number::New(env, rc);
}
#endif

void InitReadiness(Napi::Env env, Napi::Object exports) {
  exports.Set("selectInto", Napi::Function::New(env, SelectInto, "selectInto"));
  exports.Set("pollInto", Napi::Function::New(env, PollInto, "pollInto"));
#if defined(__linux__)
  exports.Set("epollCreate", Napi::Function::New(env, EpollCreate, "epollCreate"));
  exports.Set("epollCtl", Napi::Function::New(env, EpollCtl, "epollCtl"));
  exports.Set("epollWait", Napi::Function::New(env, EpollWait, "epollWait"));
#endif
  exports.Set("FD_SETSIZE", Napi::Number::New(env, FD_SETSIZE));
}

}  // namespace asyncore
