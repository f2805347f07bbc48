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

// ---- timeouts: each conversion rule, named once --------------------------------
//
// Every wait below takes its timeout in the unit of the Python call it ports
// and converts it by the rule CPython 3.11 applies there. These three
// functions are the only place the rules live, and the only place a timeout
// is validated; lib/ hands the caller's value through untouched.
//
//   select.select(timeout)   seconds, kept to the microsecond and rounded up
//                            (select_select_impl: _PyTime_FromSecondsObject and
//                            _PyTime_AsTimeval_clamp with _PyTime_ROUND_TIMEOUT);
//                            negative refused (ValueError there, RangeError here)
//                            -> SelectTimeout()
//   poll.poll(timeout)       milliseconds, a fraction rounded up, so 0.4 ms
//                            never becomes a busy poll(0) (select_poll_poll_impl:
//                            _PyTime_FromMillisecondsObject + _PyTime_AsMilliseconds,
//                            _PyTime_ROUND_TIMEOUT); negative waits forever
//                            -> PollTimeoutMs()      (pollInto, epollWait)
//   epoll.poll(timeout)      seconds, to milliseconds rounded up
//                            (select_epoll_poll_impl: _PyTime_FromSecondsObject,
//                            then _PyTime_AsMilliseconds with _PyTime_ROUND_CEILING);
//                            negative waits forever
//                            -> EpollTimeoutMs()     (epollWaitSeconds)
//
// The fourth rule of the library is asyncore's, not select's: poll2() hands
// poll.poll() `int(timeout * 1000)`, truncated (asyncore.poll2); it is made in
// lib/loop.ts (pollTimeoutMs), which then calls pollInto/epollWait by rule 2.
// null, undefined and +Infinity wait forever everywhere.

// select()'s longest finite timeout, in seconds (about 31,700 years): the
// deadline is kept in int64 milliseconds, and a double beyond that range
// must never be converted to an integer (undefined behaviour).
static const double kMaxSelectTimeout = 1e12;

// select.select's rule: seconds (negative: RangeError; forever: returned as -1).
static double SelectTimeout(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return -1;
  double t = ArgNumber(info, i, "timeout");
  if (t < 0) ThrowRange(info.Env(), "timeout must be non-negative");
  if (std::isinf(t)) return -1;
  if (t > kMaxSelectTimeout) ThrowRange(info.Env(), "timeout is too large (at most 1e12 seconds)");
  return t;
}

// A select() step of `seconds` as a timeval, rounded up to the microsecond
// (the last part of select.select's rule).
static timeval SelectTimeval(double seconds) {
  timeval tv;
  double whole = std::floor(seconds);
  double us = std::ceil((seconds - whole) * 1e6);
  tv.tv_sec = static_cast<time_t>(whole);
  tv.tv_usec = static_cast<suseconds_t>(us);
  if (tv.tv_usec >= 1000000) {
    tv.tv_sec += 1;
    tv.tv_usec -= 1000000;
  }
  return tv;
}

// A wait in whole milliseconds, rounded up; -1 waits forever.
static int CeilMs(Napi::Env env, double ms) {
  if (ms < 0 || std::isinf(ms)) return -1;
  if (ms > INT32_MAX) ThrowRange(env, "timeout is too large");
  return static_cast<int>(std::ceil(ms));
}

// poll.poll's rule: milliseconds.
static int PollTimeoutMs(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return -1;
  return CeilMs(info.Env(), ArgNumber(info, i, "timeout"));
}

// epoll.poll's rule: seconds, made nanoseconds rounded up, then milliseconds
// rounded up (two steps, as CPython: 0.029 s is 29 ms, not 30).
[[maybe_unused]] static int EpollTimeoutMs(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return -1;
  double t = ArgNumber(info, i, "timeout");
  if (t < 0 || std::isinf(t)) return -1;
  if (t > INT32_MAX / 1000.0) ThrowRange(info.Env(), "timeout is too large");
  return CeilMs(info.Env(), std::ceil(t * 1e9) / 1e6);
}

// ---- select -------------------------------------------------------------------

// FD_SET()/FD_ISSET() outside [0, FD_SETSIZE) touch memory outside the
// fd_set. The fds are validated before the wait, and checked again at each
// use because an Int32Array on a SharedArrayBuffer can change in between.
static bool InFdSet(int64_t fd) { return fd >= 0 && fd < FD_SETSIZE; }

// The one check of an fd given to select(), the one message for it.
static int SelectFd(Napi::Env env, double fd) {
  if (!std::isfinite(fd) || fd != std::trunc(fd)) {
    std::string got = std::isnan(fd) ? "NaN" : Napi::Number::New(env, fd).ToString().Utf8Value();
    ThrowType(env, "select(): file descriptor must be an integer, got " + got);
  }
  if (fd < 0 || fd >= FD_SETSIZE) {
    std::string n = Napi::Number::New(env, fd).ToString().Utf8Value();
    ThrowRange(env, "filedescriptor out of range in select(): fd " + n +
                        (fd < 0 ? " is negative" : " is not below FD_SETSIZE (" + std::to_string(FD_SETSIZE) + ")") +
                        "; use poll or epoll for fds this high (select.poll(), select.epoll(), "
                        "or loop({ backend: 'poll' | 'epoll' }))");
  }
  return static_cast<int>(fd);
}

// selectInto's fds: an Int32Array (the select backend, every pass), or a
// Float64Array (select.select(), whose fds come from the caller as numbers: an
// Int32Array would turn 1.5 into 1 and 2**32 + 4 into 4 before anyone could
// check them). A Float64Array is checked and copied into the binding's
// scratch, so the rest of the call sees int32s either way.
static int32_t* ArgSelectFds(const Napi::CallbackInfo& info, size_t i, size_t n) {
  napi_value raw = i < info.Length() ? static_cast<napi_value>(info[i]) : nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (raw == nullptr || napi_get_typedarray_info(info.Env(), raw, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      (type != napi_float64_array && type != napi_int32_array))
    return ArgInt32Array(info, i, "fds", n);  // throws its TypeError
  if (length < n)
    ThrowRange(info.Env(), "fds holds " + std::to_string(length) + " elements, fewer than the " + std::to_string(n) +
                               " needed");
  if (type == napi_int32_array) return n == 0 ? nullptr : static_cast<int32_t*>(data);  // the pass: one look, as before
  const double* in = static_cast<const double*>(data);
  std::vector<int32_t>& out = GetBinding(info.Env())->selectFds;
  if (out.size() < n) out.resize(n);
  for (size_t k = 0; k < n; k++) out[k] = SelectFd(info.Env(), in[k]);
  return out.data();
}

// selectInto(fds: Int32Array | Float64Array, masks: Int32Array, n, timeoutSeconds | null) -> ready count
// masks[i] holds kSelRead|kSelWrite|kSelExcept on entry and the ready subset on return.
static Napi::Value SelectInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = static_cast<size_t>(ArgInt(info, 2, "n", 0, INT32_MAX));
  int32_t* fds = ArgSelectFds(info, 0, n);
  int32_t* masks = ArgInt32Array(info, 1, "masks", n);
  double timeout = SelectTimeout(info, 3);

  int maxfd = -1;
  for (size_t i = 0; i < n; i++) {
    // FD_SET past FD_SETSIZE writes outside the fd_set: refuse it up front.
    int fd = SelectFd(env, fds[i]);
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
      tv = SelectTimeval(step);
      tvp = &tv;
    }
    rc = static_cast<int>(Sys(select(maxfd + 1, &r, &w, &x, tvp)));
    if (rc > 0 || (rc == 0 && !sliced) || (rc < 0 && rc != -EINTR)) break;
    if (sliced && EnvStopping(env)) {
      rc = 0;
      break;
    }
    if (timeout >= 0) {
      int64_t ms = deadline - NowMs();
      left = ms > 0 ? static_cast<double>(ms) / 1000.0 : 0;
    }
  }
  Check(env, rc, "select");
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

// Runs `wait(ms)` until it does not fail with EINTR, each retry with the time
// left; in a worker in slices, ending early when the worker is terminated.
// The result is the convention's: a count, or -errno.
template <typename F>
static int RetryWait(Napi::Env env, int timeoutMs, F wait) {
  const bool slice = InWorker(env);
  int64_t deadline = timeoutMs > 0 ? NowMs() + timeoutMs : 0;
  int ms = timeoutMs;
  for (;;) {
    bool sliced = slice && (ms < 0 || ms > kSliceMs);
    int rc = static_cast<int>(Sys(wait(sliced ? kSliceMs : ms)));
    if (rc > 0 || (rc == 0 && !sliced) || (rc < 0 && rc != -EINTR)) return rc;
    if (sliced && EnvStopping(env)) return 0;
    if (timeoutMs > 0) ms = RemainingMs(deadline);
  }
}

// ---- poll and epoll --------------------------------------------------------------

// pollInto(fds: Int32Array, events: Int32Array, revents: Int32Array, n, timeoutMs) -> ready count
static Napi::Value PollInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = static_cast<size_t>(ArgInt(info, 3, "n", 0, INT32_MAX));
  int32_t* fds = ArgInt32Array(info, 0, "fds", n);
  int32_t* events = ArgInt32Array(info, 1, "events", n);
  int32_t* revents = ArgInt32Array(info, 2, "revents", n);
  int timeoutMs = PollTimeoutMs(info, 4);

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
  Check(env, rc, "poll");
  for (size_t i = 0; i < n; i++) revents[i] = static_cast<uint16_t>(pfds[i].revents);
  return Napi::Number::New(env, rc);
}

#if defined(__linux__)
static Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int64_t fd = Check(info.Env(), Sys(epoll_create1(EPOLL_CLOEXEC)), "epoll_create1");
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

// epollCtl(epfd, op, fd, events[, tag]) -> 0 or -errno: the one entry point
// that returns its failure instead of throwing it (see binding.h): for the
// epoll backend EEXIST, ENOENT, EBADF and EPERM are answers that steer its
// recovery, not failures. lib/ throws the others through throwIfErrno().
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
  return Napi::Number::New(info.Env(), static_cast<double>(Sys(epoll_ctl(epfd, op, fd, &ev))));
}

// epollWait(epfd, fds: Int32Array, events: Int32Array, maxevents, timeoutMs[, tags: Int32Array]) -> count
// epollWaitSeconds(epfd, fds, events, maxevents, timeoutSeconds[, tags]) -> count: the
// same wait under epoll.poll's timeout rule (select.epoll().poll()); the
// backend's passes use epollWait, whose milliseconds come from asyncore's poll2.
// Which rule applies is the function's data.
using TimeoutRule = int (*)(const Napi::CallbackInfo&, size_t);
static TimeoutRule kPollRule = PollTimeoutMs;
static TimeoutRule kEpollRule = EpollTimeoutMs;

static Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TimeoutRule timeoutRule = *static_cast<TimeoutRule*>(info.Data());
  int epfd = ArgFd(info, 0, "epfd");
  size_t maxevents = static_cast<size_t>(ArgInt(info, 3, "maxevents", 1, 1 << 24));
  int32_t* fds = ArgInt32Array(info, 1, "fds", maxevents);
  int32_t* evs = ArgInt32Array(info, 2, "events", maxevents);
  int timeoutMs = timeoutRule(info, 4);
  bool wantTags = info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull();
  int32_t* tags = wantTags ? ArgInt32Array(info, 5, "tags", maxevents) : nullptr;
  std::vector<epoll_event>& buf = GetBinding(env)->epollEvents;
  if (buf.size() < maxevents) buf.resize(maxevents);
  int rc = RetryWait(env, timeoutMs, [&](int ms) {
    return epoll_wait(epfd, buf.data(), static_cast<int>(maxevents), ms);
  });
  Check(env, rc, "epoll_wait");
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
  exports.Set("epollWait",
              Napi::Function::New(env, EpollWait, "epollWait", &kPollRule));
  exports.Set("epollWaitSeconds",
              Napi::Function::New(env, EpollWait, "epollWaitSeconds", &kEpollRule));
#endif
  exports.Set("FD_SETSIZE", Napi::Number::New(env, FD_SETSIZE));
}

}  // namespace asyncore
