// Waiting for readiness without blocking Node's event loop (loopAsync).
//
// A "waiter" reports, once per start, that something became ready or that
// the timeout passed, by calling back into JavaScript from Node's own event
// loop. Two mechanisms, chosen by measurement (see lib/loop-async.ts):
//
//   uv      a uv_poll_t watching one fd (on Linux the map's epoll fd, which
//           turns readable when any fd in its interest set is ready) plus a
//           uv_timer_t for the timeout. No thread, no copy: libuv's own
//           epoll_wait wakes for it. Linux's default.
//   thread  a dedicated thread that runs poll() over a copy of an fd set
//           (plus a wake pipe, so a wait can be cancelled at once) and hands
//           the answer back through a napi_threadsafe_function. Portable to
//           any POSIX system; the fallback where there is no epoll.
//
// libuv is reached through its public ABI (uv.h from the Node headers and
// napi_get_uv_event_loop); everything else is Node-API. Each waiter belongs
// to one environment (main thread or worker). An async cleanup hook closes
// its handles (and stops its thread) when that environment is torn down, so
// terminating a worker in the middle of a wait is safe.
#include "binding.h"

#include <uv.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace asyncore {

namespace {

enum class Mode { kUv, kThread };

// What the JavaScript callback receives.
enum { kTimedOut = 0, kReady = 1 };

struct Waiter;

// The job a thread-mode waiter's thread runs: poll(fds, timeout).
struct ThreadJob {
  uint64_t gen = 0;
  std::vector<pollfd> fds;  // the caller's fds, then the wake pipe last
  int timeoutMs = -1;
};

struct Waiter {
  Mode mode;
  napi_env env;
  napi_async_context asyncContext = nullptr;
  napi_ref callback = nullptr;  // held only while a wait is pending
  napi_async_cleanup_hook_handle cleanupHandle = nullptr;
  bool waiting = false;
  bool closing = false;
  bool jsGone = false;  // the External that JavaScript held was collected
  int openHandles = 0;

  // uv mode
  uv_poll_t poll;
  uv_timer_t timer;
  int fd = -1;

  // thread mode
  std::thread thread;
  std::mutex mutex;
  std::condition_variable cv;
  ThreadJob job;            // guarded by mutex; job.gen == 0: none queued
  uint64_t gen = 0;         // the current wait (main thread only)
  uint64_t cancelledGen = 0;  // guarded by mutex: waits up to this one are void
  bool stop = false;        // guarded by mutex
  int wake[2] = {-1, -1};   // cancel() writes a byte to wake[1]
  napi_threadsafe_function tsfn = nullptr;
};

// A finished thread-mode wait, on its way to the main thread.
struct ThreadResult {
  uint64_t gen;
  int status;
};

void DeleteIfDone(Waiter* w) {
  if (w->jsGone && w->closing && w->openHandles == 0) delete w;
}

// One of the waiter's handles (a libuv handle, or the threadsafe function)
// is gone; after the last one the environment may finish its teardown.
void HandleGone(Waiter* w) {
  if (--w->openHandles > 0) return;
  if (w->cleanupHandle != nullptr) {
    napi_remove_async_cleanup_hook(w->cleanupHandle);
    w->cleanupHandle = nullptr;
  }
  DeleteIfDone(w);
}

void OnHandleClosed(uv_handle_t* h) {
  HandleGone(static_cast<Waiter*>(h->data));
}

// The threadsafe function is finalized only after its queue is drained, so
// no OnThreadResult can reach the Waiter after this.
void StopThread(Waiter* w);

void OnTsfnFinalized(napi_env env, void* data, void* hint) {
  Waiter* w = static_cast<Waiter*>(data);
  w->tsfn = nullptr;
  StopThread(w);  // normally stopped already; not if the environment finalized it first
  HandleGone(w);
}

void DropCallback(Waiter* w) {
  if (w->callback != nullptr) {
    napi_delete_reference(w->env, w->callback);
    w->callback = nullptr;
  }
}

void StopThread(Waiter* w) {
  if (w->wake[0] == -1) return;
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    w->stop = true;
    w->cancelledGen = w->gen;
  }
  w->cv.notify_one();
  char b = 1;
  ssize_t ignored = write(w->wake[1], &b, 1);
  (void)ignored;
  if (w->thread.joinable()) w->thread.join();
  close(w->wake[0]);
  close(w->wake[1]);
  w->wake[0] = w->wake[1] = -1;
}

// Stop waiting for good and release everything; the Waiter itself is freed
// once libuv has closed its handles and JavaScript no longer holds it.
// Called with a live environment (from JavaScript, a finalizer or the
// environment's cleanup hook).
void BeginClose(Waiter* w) {
  if (w->closing) return;
  w->closing = true;
  w->waiting = false;
  DropCallback(w);
  if (w->asyncContext != nullptr) {
    napi_async_destroy(w->env, w->asyncContext);
    w->asyncContext = nullptr;
  }
  if (w->mode == Mode::kUv) {
    // uv_close stops the poll at once (libuv removes the fd from its own
    // epoll set now, not later), so the caller may close the fd right after.
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnHandleClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), OnHandleClosed);
  } else {
    StopThread(w);
    // Finalization (OnTsfnFinalized) follows once its queue is drained.
    if (w->tsfn != nullptr) napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
  }
}

void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* data) {
  Waiter* w = static_cast<Waiter*>(data);
  w->cleanupHandle = handle;
  BeginClose(w);
}

void OnExternalFinalized(napi_env env, void* data, void* hint) {
  Waiter* w = static_cast<Waiter*>(data);
  w->jsGone = true;
  if (!w->closing) BeginClose(w);
  DeleteIfDone(w);
}

// Call the pending wait's callback with `status`, from Node's event loop.
// The callback runs through napi_make_callback, so microtasks (promise
// continuations) run right after it, as after any I/O callback.
void Deliver(Waiter* w, int status) {
  if (!w->waiting || w->closing) return;
  w->waiting = false;
  napi_ref ref = w->callback;
  w->callback = nullptr;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    napi_delete_reference(env, ref);
    return;  // the environment is going away
  }
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, ref, &fn) == napi_ok && fn != nullptr) {
    napi_get_global(env, &recv);  // napi_make_callback needs an object as `this`
    napi_create_int32(env, status, &arg);
    napi_status st = napi_make_callback(env, w->asyncContext, recv, fn, 1, &arg, &result);
    if (st == napi_pending_exception) {
      // The JavaScript side never throws here; if it does, treat it as any
      // exception thrown from an I/O callback: 'uncaughtException'.
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_delete_reference(env, ref);
  napi_close_handle_scope(env, scope);
}

// ---- uv mode ----------------------------------------------------------------

void OnPoll(uv_poll_t* h, int status, int events) {
  Waiter* w = static_cast<Waiter*>(h->data);
  uv_poll_stop(&w->poll);
  uv_timer_stop(&w->timer);
  // A poll error (status < 0) is not ours to report: the pass that follows
  // asks the kernel again and gets the real answer.
  Deliver(w, kReady);
}

void OnTimer(uv_timer_t* h) {
  Waiter* w = static_cast<Waiter*>(h->data);
  uv_poll_stop(&w->poll);
  Deliver(w, kTimedOut);
}

// ---- thread mode ------------------------------------------------------------

void DrainWake(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

void ThreadMain(Waiter* w) {
  for (;;) {
    ThreadJob job;
    {
      std::unique_lock<std::mutex> lock(w->mutex);
      w->cv.wait(lock, [w] { return w->stop || w->job.gen != 0; });
      if (w->stop) return;
      job = std::move(w->job);
      w->job = ThreadJob();
    }
    // Bytes from earlier cancels are stale; a cancel of *this* job after the
    // check below leaves its byte in the pipe, so poll() sees it.
    DrainWake(w->wake[0]);
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      if (w->stop) return;
      if (job.gen <= w->cancelledGen) continue;
    }
    job.fds.back() = pollfd{w->wake[0], POLLIN, 0};
    int64_t deadline = job.timeoutMs > 0 ? NowMs() + job.timeoutMs : 0;
    int ms = job.timeoutMs;
    int rc;
    for (;;) {
      rc = ::poll(job.fds.data(), static_cast<nfds_t>(job.fds.size()), ms);
      if (rc != -1 || errno != EINTR) break;
      if (job.timeoutMs > 0) ms = RemainingMs(deadline);
    }
    if (job.fds.back().revents != 0) continue;  // cancelled: nobody waits for the answer
    int status = rc > 0 ? kReady : rc == 0 ? kTimedOut : -errno;
    auto* res = new ThreadResult{job.gen, status};
    if (napi_call_threadsafe_function(w->tsfn, res, napi_tsfn_blocking) != napi_ok) delete res;
  }
}

void OnThreadResult(napi_env env, napi_value jsCallback, void* context, void* data) {
  auto* res = static_cast<ThreadResult*>(data);
  Waiter* w = static_cast<Waiter*>(context);
  uint64_t gen = res->gen;
  int status = res->status;
  delete res;
  if (env == nullptr || w->closing || gen != w->gen || !w->waiting) return;  // cancelled or superseded
  napi_unref_threadsafe_function(env, w->tsfn);  // idle again, unless the callback starts a new wait
  Deliver(w, status);
}

// ---- JavaScript entry points -------------------------------------------------

Waiter* ArgWaiter(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) ThrowType(info.Env(), "waiter must be a handle from asyncWaitCreate()");
  Waiter* w = info[0].As<Napi::External<Waiter>>().Data();
  if (w->closing) ThrowType(info.Env(), "waiter is closed");
  return w;
}

Napi::Value WrapWaiter(Napi::Env env, Waiter* w) {
  napi_value resource_name;
  napi_create_string_utf8(env, "asyncore.loopAsync", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, nullptr, resource_name, &w->asyncContext);
  napi_add_async_cleanup_hook(env, OnEnvCleanup, w, &w->cleanupHandle);
  napi_value ext;
  napi_create_external(env, w, OnExternalFinalized, nullptr, &ext);
  return Napi::Value(env, ext);
}

// asyncWaitCreate('uv', fd) | asyncWaitCreate('thread') -> handle
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "mode must be 'uv' or 'thread'");
  std::string mode = info[0].As<Napi::String>().Utf8Value();
  auto* w = new Waiter();
  w->env = env;
  if (mode == "uv") {
    w->mode = Mode::kUv;
    w->fd = ArgFd(info, 1);
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      delete w;
      ThrowType(env, "no libuv loop for this environment");
    }
    int rc = uv_poll_init(loop, &w->poll, w->fd);
    if (rc != 0) {
      delete w;
      ThrowErrno(env, -rc, "uv_poll_init");
    }
    uv_timer_init(loop, &w->timer);
    w->openHandles = 2;
    w->poll.data = w;
    w->timer.data = w;
  } else if (mode == "thread") {
    w->mode = Mode::kThread;
    if (pipe(w->wake) != 0) {
      int err = errno;
      delete w;
      ThrowErrno(env, err, "pipe");
    }
    for (int fd : w->wake) {
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    napi_value name;
    napi_create_string_utf8(env, "asyncore.loopAsync.thread", NAPI_AUTO_LENGTH, &name);
    napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, w, OnTsfnFinalized,
                                                     w, OnThreadResult, &w->tsfn);
    if (st != napi_ok) {
      close(w->wake[0]);
      close(w->wake[1]);
      delete w;
      ThrowType(env, "napi_create_threadsafe_function failed");
    }
    // Idle, the thread must not keep the process alive; start() refs it.
    napi_unref_threadsafe_function(env, w->tsfn);
    w->openHandles = 1;  // the threadsafe function
    w->thread = std::thread(ThreadMain, w);
  } else {
    delete w;
    ThrowType(env, "mode must be 'uv' or 'thread'");
  }
  return WrapWaiter(env, w);
}

// asyncWaitStart(handle, timeoutMs, callback[, fds, events, n]): one wait.
// callback(status) follows exactly once unless cancel() or close() comes first:
// 1 ready, 0 timed out, negative: -errno (thread mode's poll() failed).
// timeoutMs < 0 waits for readiness only. The uv mode watches the fd given
// at creation; the thread mode polls fds[0..n) for events[0..n) (copied now).
Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Waiter* w = ArgWaiter(info);
  double t = ArgNumber(info, 1, "timeoutMs");
  if (t > INT32_MAX) ThrowRange(env, "timeoutMs is too large");
  int timeoutMs = t < 0 ? -1 : static_cast<int>(t);
  if (info.Length() < 3 || !info[2].IsFunction()) ThrowType(env, "callback must be a function");
  if (w->waiting) ThrowType(env, "a wait is already pending on this waiter");
  if (w->mode == Mode::kUv) {
    int rc = uv_poll_start(&w->poll, UV_READABLE, OnPoll);
    if (rc != 0) ThrowErrno(env, -rc, "uv_poll_start");
    if (timeoutMs >= 0) {
      // libuv measures timers from the time cached at the start of the loop
      // iteration; a pass may have run long since, so refresh it first.
      uv_update_time(w->timer.loop);
      uv_timer_start(&w->timer, OnTimer, static_cast<uint64_t>(timeoutMs), 0);
    }
  } else {
    size_t n = static_cast<size_t>(ArgInt(info, 5, "n", 0, INT32_MAX));
    int32_t* fds = ArgInt32Array(info, 3, "fds", n);
    int32_t* events = ArgInt32Array(info, 4, "events", n);
    ThreadJob job;
    job.gen = ++w->gen;
    job.timeoutMs = timeoutMs;
    job.fds.resize(n + 1);
    for (size_t i = 0; i < n; i++) job.fds[i] = pollfd{fds[i], static_cast<short>(events[i]), 0};
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      w->job = std::move(job);
    }
    w->cv.notify_one();
    napi_ref_threadsafe_function(env, w->tsfn);
  }
  napi_create_reference(env, info[2], 1, &w->callback);
  w->waiting = true;
  return env.Undefined();
}

// asyncWaitCancel(handle): the pending wait (if any) ends without a callback.
Napi::Value Cancel(const Napi::CallbackInfo& info) {
  Waiter* w = ArgWaiter(info);
  if (!w->waiting) return info.Env().Undefined();
  w->waiting = false;
  DropCallback(w);
  if (w->mode == Mode::kUv) {
    uv_poll_stop(&w->poll);
    uv_timer_stop(&w->timer);
  } else {
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      w->cancelledGen = w->gen;
    }
    char b = 1;
    ssize_t ignored = write(w->wake[1], &b, 1);
    (void)ignored;
    napi_unref_threadsafe_function(info.Env(), w->tsfn);
  }
  return info.Env().Undefined();
}

// asyncWaitClose(handle): cancel and free. In uv mode the watched fd may be
// closed as soon as this returns.
Napi::Value CloseWaiter(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) ThrowType(info.Env(), "waiter must be a handle from asyncWaitCreate()");
  BeginClose(info[0].As<Napi::External<Waiter>>().Data());
  return info.Env().Undefined();
}

// ---- fds closed with the environment --------------------------------------------

// Raw fds this environment owns beyond any JavaScript object's life: the
// epoll fds loops keep per map. A worker that is terminated in the middle of
// a loop runs no JavaScript again, so they are closed here. The hook is
// added when the module loads, before any waiter's, so it runs after them
// (cleanup hooks run last-added first): no uv_poll_t watches an fd closed here.
struct OwnedFds {
  std::unordered_set<int> fds;
};

void CloseOwnedFds(void* data) {
  auto* owned = static_cast<OwnedFds*>(data);
  for (int fd : owned->fds) close(fd);
  delete owned;
}

// ownFd(fd): close fd when this environment is torn down (unless disowned first).
Napi::Value OwnFd(const Napi::CallbackInfo& info) {
  static_cast<OwnedFds*>(info.Data())->fds.insert(ArgFd(info, 0));
  return info.Env().Undefined();
}

// disownFd(fd): the caller closes fd itself.
Napi::Value DisownFd(const Napi::CallbackInfo& info) {
  static_cast<OwnedFds*>(info.Data())->fds.erase(ArgFd(info, 0));
  return info.Env().Undefined();
}

}  // namespace

void InitAsyncWait(Napi::Env env, Napi::Object exports) {
  auto* owned = new OwnedFds();
  napi_add_env_cleanup_hook(env, CloseOwnedFds, owned);
  exports.Set("ownFd", Napi::Function::New(env, OwnFd, "ownFd", owned));
  exports.Set("disownFd", Napi::Function::New(env, DisownFd, "disownFd", owned));
  exports.Set("asyncWaitCreate", Napi::Function::New(env, Create, "asyncWaitCreate"));
  exports.Set("asyncWaitStart", Napi::Function::New(env, Start, "asyncWaitStart"));
  exports.Set("asyncWaitCancel", Napi::Function::New(env, Cancel, "asyncWaitCancel"));
  exports.Set("asyncWaitClose", Napi::Function::New(env, CloseWaiter, "asyncWaitClose"));
}

}  // namespace asyncore
