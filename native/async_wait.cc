// loopAsync's turns: running passes inside Node's event loop.
//
// A "waiter" gives JavaScript one call, onTurn(why), each time Node's event
// loop is about to wait for I/O (libuv's prepare phase, which runs once per
// loop iteration, right before the poll phase blocks). In that call loopAsync
// asks its channels again and runs its pass; anything JavaScript changed since
// the last turn (a timer, an HTTP handler, a resolved promise) is therefore
// seen before Node blocks, with no call the user has to make. If the turn
// arms a block (asyncWaitBlock), Node's loop may then wait, until
//
//   uv      a uv_poll_t on one fd (on Linux an epoll fd holding the pass's
//           interest, which polls readable when any fd in it is ready) is
//           readable, or
//   thread  a dedicated thread's poll() over a copy of an fd set (plus a wake
//           pipe, so it can be cancelled at once) reports readiness through a
//           napi_threadsafe_function; the portable fallback,
//
// or a uv_timer_t for the pass's timeout fires, or anything else wakes Node's
// loop. Whatever it was, the next prepare phase brings the next turn, with
// `why` saying whether it was the watched readiness or the timer. A turn that
// arms nothing keeps a uv_idle_t started, so that Node's loop does not block
// and the next turn follows right after one round of timers and I/O.
//
// libuv is reached through its public ABI (uv.h from the Node headers and
// napi_get_uv_event_loop); everything else is Node-API. Each waiter belongs to
// one environment (main thread or worker); an async cleanup hook closes its
// handles (and stops its thread) when that environment is torn down, so
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

// Why a turn came (the argument of onTurn).
enum { kTurnOther = 0, kTurnReady = 1, kTurnTimedOut = 2 };

struct Waiter;

// A uv_poll_t bound to one fd; replaced (closed, a new one made) when a turn
// wants another fd watched, e.g. after the epoll set was rebuilt. It stays
// started from one turn to the next while they block on the same fd: libuv's
// uv_poll_start() begins with a stop, and a stop takes the fd out of libuv's
// epoll set (EPOLL_CTL_DEL) for the next start to add it back, so stopping
// and starting it around every turn cost three epoll_ctl calls per wake-up.
struct PollHandle {
  uv_poll_t handle;
  Waiter* waiter;
  int fd;
  bool started = false;
};

// The job a thread-mode waiter's thread runs: poll(fds) until ready or cancelled.
struct ThreadJob {
  uint64_t gen = 0;
  std::vector<pollfd> fds;  // the caller's fds, then the wake pipe last
};

struct Waiter {
  Mode mode;
  napi_env env;
  uv_loop_t* loop = nullptr;
  napi_async_context asyncContext = nullptr;
  napi_ref onTurn = nullptr;  // held only while active
  napi_async_cleanup_hook_handle cleanupHandle = nullptr;
  bool active = false;  // turns are being given
  bool armed = false;   // the current turn let Node's loop block
  bool closing = false;
  bool jsGone = false;  // the External that JavaScript held was collected
  int why = kTurnOther;  // what ended the last block
  int openHandles = 0;

  uv_prepare_t prepare;
  uv_idle_t idle;
  uv_timer_t timer;
  PollHandle* poll = nullptr;  // uv mode

  // thread mode
  std::thread thread;
  std::mutex mutex;
  std::condition_variable cv;
  ThreadJob job;              // guarded by mutex; job.gen == 0: none queued
  uint64_t gen = 0;           // the current job (main thread only)
  bool jobPending = false;    // main thread only: a job runs and has not answered
  uint64_t cancelledGen = 0;  // guarded by mutex: jobs up to this one are void
  bool stop = false;          // guarded by mutex
  int wake[2] = {-1, -1};     // cancelling writes a byte to wake[1]
  napi_threadsafe_function tsfn = nullptr;
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

void OnPollClosed(uv_handle_t* h) {
  auto* p = reinterpret_cast<PollHandle*>(h);
  Waiter* w = p->waiter;
  delete p;
  HandleGone(w);
}

// uv_close stops the poll at once (libuv removes the fd from its own epoll
// set now, not later), so the fd may be closed, or its number reused, after.
void ClosePoll(Waiter* w) {
  if (w->poll == nullptr) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll->handle), OnPollClosed);
  w->poll = nullptr;
}

void StopPoll(Waiter* w) {
  if (w->poll == nullptr || !w->poll->started) return;
  uv_poll_stop(&w->poll->handle);
  w->poll->started = false;
}

}  // namespace

void InvalidatePolledFd(Napi::Env env, int fd) {
  Binding* b = GetBinding(env);
  if (b == nullptr) return;
  for (void* p : b->waiters) {
    Waiter* w = static_cast<Waiter*>(p);
    if (w->poll != nullptr && w->poll->fd == fd) ClosePoll(w);
  }
}

namespace {

// ---- thread mode ------------------------------------------------------------

void WakeThread(Waiter* w) {
  char b = 1;
  ssize_t ignored = write(w->wake[1], &b, 1);
  (void)ignored;
}

void StopThread(Waiter* w) {
  if (w->wake[0] == -1) return;
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    w->stop = true;
    w->cancelledGen = w->gen;
  }
  w->cv.notify_one();
  WakeThread(w);
  if (w->thread.joinable()) w->thread.join();
  close(w->wake[0]);
  close(w->wake[1]);
  w->wake[0] = w->wake[1] = -1;
}

// The job in flight (if any) ends without an answer.
void CancelJob(Waiter* w) {
  if (!w->jobPending) return;
  w->jobPending = false;
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    w->cancelledGen = w->gen;
  }
  WakeThread(w);
}

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
    int rc;
    do {
      rc = ::poll(job.fds.data(), static_cast<nfds_t>(job.fds.size()), -1);
    } while (rc == -1 && errno == EINTR);
    if (job.fds.back().revents != 0) continue;  // cancelled: nobody waits for the answer
    auto* gen = new uint64_t(job.gen);
    if (napi_call_threadsafe_function(w->tsfn, gen, napi_tsfn_blocking) != napi_ok) delete gen;
  }
}

// On the JavaScript thread: a job answered. Reaching here already woke Node's
// loop; the next prepare phase brings the turn.
void OnThreadAnswer(napi_env env, napi_value jsCallback, void* context, void* data) {
  auto* gen = static_cast<uint64_t*>(data);
  Waiter* w = static_cast<Waiter*>(context);
  bool current = env != nullptr && !w->closing && w->jobPending && *gen == w->gen;
  delete gen;
  if (!current) return;  // cancelled or superseded
  w->jobPending = false;
  w->why = kTurnReady;
}

// The threadsafe function is finalized only after its queue is drained, so
// no OnThreadAnswer can reach the Waiter after this.
void OnTsfnFinalized(napi_env env, void* data, void* hint) {
  Waiter* w = static_cast<Waiter*>(data);
  w->tsfn = nullptr;
  StopThread(w);  // normally stopped already; not if the environment finalized it first
  HandleGone(w);
}

void StartJob(Waiter* w, const int32_t* fds, const int32_t* events, size_t n) {
  ThreadJob job;
  job.gen = ++w->gen;
  job.fds.resize(n + 1);
  for (size_t i = 0; i < n; i++) job.fds[i] = pollfd{fds[i], static_cast<short>(events[i]), 0};
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    w->job = std::move(job);
  }
  w->cv.notify_one();
  w->jobPending = true;
}

// ---- turns --------------------------------------------------------------------

// Stop whatever the last turn armed, but the uv_poll_t (see PollHandle): a
// readiness it reports while no block is armed only marks the next turn's `why`.
void Disarm(Waiter* w) {
  w->armed = false;
  uv_idle_stop(&w->idle);
  uv_timer_stop(&w->timer);
  if (w->mode == Mode::kThread) CancelJob(w);
}

void DropCallback(Waiter* w) {
  if (w->onTurn != nullptr) {
    napi_delete_reference(w->env, w->onTurn);
    w->onTurn = nullptr;
  }
}

void Deactivate(Waiter* w) {
  w->active = false;
  Disarm(w);
  StopPoll(w);
  uv_prepare_stop(&w->prepare);
  DropCallback(w);
}

// Call onTurn(why) from Node's event loop. It runs through napi_make_callback,
// so microtasks (promise continuations) run right after it, as after any I/O
// callback.
void CallTurn(Waiter* w, int why) {
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;  // the environment is going away
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, w->onTurn, &fn) == napi_ok && fn != nullptr) {
    napi_get_global(env, &recv);  // napi_make_callback needs an object as `this`
    napi_create_int32(env, why, &arg);
    napi_status st = napi_make_callback(env, w->asyncContext, recv, fn, 1, &arg, &result);
    if (st == napi_pending_exception) {
      // The JavaScript side never throws here; if it does, treat it as any
      // exception thrown from an I/O callback: 'uncaughtException'.
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

void OnPrepare(uv_prepare_t* h) {
  Waiter* w = static_cast<Waiter*>(h->data);
  if (!w->active || w->closing) return;
  int why = w->why;
  w->why = kTurnOther;
  Disarm(w);
  CallTurn(w, why);
  // No block armed: do not let the poll phase wait, so the next turn comes soon.
  if (w->active && !w->closing && !w->armed) uv_idle_start(&w->idle, [](uv_idle_t*) {});
}

void OnPoll(uv_poll_t* h, int status, int events) {
  auto* p = reinterpret_cast<PollHandle*>(h);
  // A poll error (status < 0) is not ours to report: the turn asks the kernel
  // again, and the next block starts the poll anew (it must not spin meanwhile).
  if (status < 0) StopPoll(p->waiter);
  p->waiter->why = kTurnReady;
}

void OnTimer(uv_timer_t* h) {
  Waiter* w = static_cast<Waiter*>(h->data);
  if (w->why != kTurnReady) w->why = kTurnTimedOut;
}

// Stop for good and release everything; the Waiter itself is freed once
// libuv has closed its handles and JavaScript no longer holds it. Called with
// a live environment (from JavaScript, a finalizer or the cleanup hook).
void BeginClose(Waiter* w) {
  if (w->closing) return;
  if (Binding* b = GetBinding(Napi::Env(w->env))) {
    auto& ws = b->waiters;
    for (size_t i = 0; i < ws.size(); i++)
      if (ws[i] == w) {
        ws[i] = ws.back();
        ws.pop_back();
        break;
      }
  }
  Deactivate(w);
  w->closing = true;
  if (w->asyncContext != nullptr) {
    napi_async_destroy(w->env, w->asyncContext);
    w->asyncContext = nullptr;
  }
  ClosePoll(w);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->prepare), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->idle), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), OnHandleClosed);
  if (w->mode == Mode::kThread) {
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

// ---- JavaScript entry points -------------------------------------------------

Waiter* ArgWaiter(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) ThrowType(info.Env(), "waiter must be a handle from asyncWaitCreate()");
  Waiter* w = info[0].As<Napi::External<Waiter>>().Data();
  if (w->closing) ThrowType(info.Env(), "waiter is closed");
  return w;
}

// 0, or -errno (the wake pipe could not be made, or the threadsafe function).
int StartThread(Napi::Env env, Waiter* w) {
  int rc = static_cast<int>(Sys(pipe(w->wake)));
  if (rc < 0) return rc;
  for (int fd : w->wake) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  napi_value name;
  napi_create_string_utf8(env, "asyncore.loopAsync.thread", NAPI_AUTO_LENGTH, &name);
  napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, w, OnTsfnFinalized, w,
                                                   OnThreadAnswer, &w->tsfn);
  if (st != napi_ok) {
    close(w->wake[0]);
    close(w->wake[1]);
    w->wake[0] = w->wake[1] = -1;
    return -EAGAIN;
  }
  // The thread never keeps the process alive: an active waiter's prepare handle does.
  napi_unref_threadsafe_function(env, w->tsfn);
  w->openHandles++;  // the threadsafe function
  w->thread = std::thread(ThreadMain, w);
  return 0;
}

// asyncWaitCreate('uv' | 'thread') -> handle
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "mode must be 'uv' or 'thread'");
  std::string mode = info[0].As<Napi::String>().Utf8Value();
  if (mode != "uv" && mode != "thread") ThrowType(env, "mode must be 'uv' or 'thread'");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowType(env, "no libuv loop for this environment");
  auto* w = new Waiter();
  w->env = env;
  w->loop = loop;
  w->mode = mode == "uv" ? Mode::kUv : Mode::kThread;
  if (w->mode == Mode::kThread) {
    int rc = StartThread(env, w);
    if (rc < 0) delete w;
    Check(env, rc, "pipe");
  }
  if (Binding* b = GetBinding(env)) b->waiters.push_back(w);
  uv_prepare_init(loop, &w->prepare);
  uv_idle_init(loop, &w->idle);
  uv_timer_init(loop, &w->timer);
  w->prepare.data = w->idle.data = w->timer.data = w;
  w->openHandles += 3;
  napi_value resource_name;
  napi_create_string_utf8(env, "asyncore.loopAsync", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, nullptr, resource_name, &w->asyncContext);
  napi_add_async_cleanup_hook(env, OnEnvCleanup, w, &w->cleanupHandle);
  napi_value ext;
  napi_create_external(env, w, OnExternalFinalized, nullptr, &ext);
  return Napi::Value(env, ext);
}

// asyncWaitActivate(handle, onTurn): from the next loop iteration on, call
// onTurn(why) at every prepare phase until deactivated. While active the
// waiter keeps the process alive.
Napi::Value Activate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Waiter* w = ArgWaiter(info);
  if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "onTurn must be a function");
  DropCallback(w);
  napi_create_reference(env, info[1], 1, &w->onTurn);
  w->active = true;
  w->why = kTurnOther;
  uv_prepare_start(&w->prepare, OnPrepare);
  uv_idle_start(&w->idle, [](uv_idle_t*) {});  // the first turn without blocking
  return env.Undefined();
}

// asyncWaitBlock(handle, timeoutMs, fd[, fds, events, n]): let Node's loop
// block after this turn until `fd` polls readable (uv mode; thread mode polls
// it on its thread), or, with fd -1 in thread mode, until one of fds[0..n) is
// ready for events[0..n) (copied now); or until `timeoutMs` (negative: no
// limit) has passed; or anything else wakes Node's loop.
Napi::Value Block(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Waiter* w = ArgWaiter(info);
  if (!w->active) ThrowType(env, "waiter is not active");
  double t = ArgNumber(info, 1, "timeoutMs");
  if (t > INT32_MAX) ThrowRange(env, "timeoutMs is too large");
  int fd = static_cast<int>(ArgInt(info, 2, "fd", -1, INT32_MAX));
  size_t n = 0;
  int32_t* fds = nullptr;
  int32_t* events = nullptr;
  if (fd == -1 && info.Length() > 3) {
    if (w->mode != Mode::kThread) ThrowType(env, "an fd set is watched in thread mode only");
    n = static_cast<size_t>(ArgInt(info, 5, "n", 0, INT32_MAX));
    fds = ArgInt32Array(info, 3, "fds", n);
    events = ArgInt32Array(info, 4, "events", n);
  }
  Disarm(w);
  if (w->mode == Mode::kUv && fd != -1) {
    if (w->poll != nullptr && w->poll->fd != fd) ClosePoll(w);
    if (w->poll == nullptr) {
      auto* p = new PollHandle();
      int rc = uv_poll_init(w->loop, &p->handle, fd);
      if (rc < 0) delete p;
      Check(env, rc, "uv_poll_init");
      p->waiter = w;
      p->fd = fd;
      w->poll = p;
      w->openHandles++;
    }
    if (!w->poll->started) {
      int rc = uv_poll_start(&w->poll->handle, UV_READABLE, OnPoll);
      Check(env, rc, "uv_poll_start");
      w->poll->started = true;
    }
  } else if (w->mode == Mode::kUv) {
    StopPoll(w);  // a block on the timer alone: readiness of the fd is not to wake it
  } else if (w->mode == Mode::kThread && fd != -1) {
    int32_t one = fd, readable = POLLIN;
    StartJob(w, &one, &readable, 1);
  } else if (w->mode == Mode::kThread && n > 0) {
    StartJob(w, fds, events, n);
  }
  if (t >= 0) {
    // libuv measures timers from the time cached at the start of the loop
    // iteration; a turn may have run long since, so refresh it first.
    uv_update_time(w->loop);
    uv_timer_start(&w->timer, OnTimer, static_cast<uint64_t>(t), 0);
  }
  w->armed = true;
  return env.Undefined();
}

// asyncWaitDeactivate(handle): no more turns; nothing armed stays armed.
Napi::Value DeactivateJs(const Napi::CallbackInfo& info) {
  Deactivate(ArgWaiter(info));
  return info.Env().Undefined();
}

// asyncWaitClose(handle): deactivate and free. A watched fd may be closed as
// soon as this returns.
Napi::Value CloseWaiter(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) ThrowType(info.Env(), "waiter must be a handle from asyncWaitCreate()");
  BeginClose(info[0].As<Napi::External<Waiter>>().Data());
  return info.Env().Undefined();
}

// ---- fds closed with the environment --------------------------------------------

// Raw fds this environment owns beyond any JavaScript object's life: the
// epoll fds the backends keep. A worker that is terminated in the middle of
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
  exports.Set("asyncWaitActivate", Napi::Function::New(env, Activate, "asyncWaitActivate"));
  exports.Set("asyncWaitBlock", Napi::Function::New(env, Block, "asyncWaitBlock"));
  exports.Set("asyncWaitDeactivate", Napi::Function::New(env, DeactivateJs, "asyncWaitDeactivate"));
  exports.Set("asyncWaitClose", Napi::Function::New(env, CloseWaiter, "asyncWaitClose"));
}

}  // namespace asyncore
