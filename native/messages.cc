// sendmsg()/recvmsg() with ancillary data, as Python's socket.sendmsg() and
// socket.recvmsg(); lib/socket.ts builds send_fds()/recv_fds() on them.
//
// Two rules beyond Python's, both about fds passed with SCM_RIGHTS:
//  - received fds are close-on-exec (MSG_CMSG_CLOEXEC where the kernel has
//    it, else FD_CLOEXEC right after), as every fd this library makes;
//  - when the control buffer was too small (MSG_CTRUNC), the kernel has
//    already dropped the fds that did not fit; the ones that did arrive are
//    closed here and their SCM_RIGHTS items left out, so a partial set never
//    reaches the caller (nor leaks). msg_flags still says MSG_CTRUNC.
#include "binding.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

namespace asyncore {

#if defined(MSG_NOSIGNAL)
static const int kSendFlags = MSG_NOSIGNAL;
#else
static const int kSendFlags = 0;
#endif
#if defined(MSG_CMSG_CLOEXEC)
static const int kRecvFlags = MSG_CMSG_CLOEXEC;
#else
static const int kRecvFlags = 0;
#endif
#if defined(IOV_MAX)
static const size_t kMaxIov = IOV_MAX;
#else
static const size_t kMaxIov = 1024;
#endif

// The largest control buffer and cmsg payload accepted (the kernel's own
// limit, net.core.optmem_max, is far smaller): keeps CMSG_SPACE() sums
// far from overflow and the allocation bounded.
static const int64_t kMaxAncillary = 1 << 20;
static const int64_t kMaxData = 1LL << 30;

// One ancillary item as read from JavaScript: [level, type, data].
struct AncItem {
  int level, type;
  napi_value data;
};

static napi_value Element(Napi::Env env, Napi::Array a, uint32_t i) { return a.Get(i); }

static Napi::Array ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsArray()) ThrowType(info.Env(), std::string(what) + " must be an array");
  return info[i].As<Napi::Array>();
}

// sendmsg(fd, buffers: bytes[], ancdata: [level, type, bytes][], flags, family, address?) -> bytes sent
//
// Everything that can run JavaScript (array elements may be getters; so may
// the address) is read first; only then are the bytes' pointers taken, and
// nothing runs JavaScript between that and the syscall, so no buffer can be
// detached or shrunk under it (the rule sendto() follows too).
static Napi::Value Sendmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Array bufs = ArrayArg(info, 1, "buffers");
  Napi::Array anc = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull() ? ArrayArg(info, 2, "ancdata")
                                                                                      : Napi::Array::New(env, 0);
  int flags = static_cast<int>(ArgIntOr(info, 3, "flags", 0, INT32_MAX, 0));
  sockaddr_storage ss;
  socklen_t sslen = 0;
  if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull())
    sslen = ParseAddress(env, static_cast<int>(ArgInt(info, 4, "family", 0, INT32_MAX)), info[5], &ss, "sendmsg");

  if (bufs.Length() > kMaxIov) ThrowErrno(env, EMSGSIZE, "sendmsg");  // what the kernel says beyond IOV_MAX
  if (anc.Length() > kMaxAncillary) ThrowRange(env, "ancdata has too many items");
  std::vector<napi_value> bufValues(bufs.Length());
  for (uint32_t i = 0; i < bufs.Length(); i++) bufValues[i] = Element(env, bufs, i);
  std::vector<AncItem> items(anc.Length());
  for (uint32_t i = 0; i < anc.Length(); i++) {
    Napi::Value item(env, Element(env, anc, i));
    std::string where = "ancdata[" + std::to_string(i) + "]";
    if (!item.IsArray() || item.As<Napi::Array>().Length() != 3)
      ThrowType(env, where + " must be [level, type, data]");
    Napi::Array t = item.As<Napi::Array>();
    napi_value level = Element(env, t, 0), type = Element(env, t, 1);
    items[i].data = Element(env, t, 2);
    items[i].level = static_cast<int>(ValueInt(env, level, where + " level", INT32_MIN, INT32_MAX));
    items[i].type = static_cast<int>(ValueInt(env, type, where + " type", INT32_MIN, INT32_MAX));
  }

  // From here on, no JavaScript runs.
  std::vector<iovec> iov(bufValues.size());
  size_t total = 0;
  for (size_t i = 0; i < bufValues.size(); i++) {
    Bytes b = ValueBytes(env, bufValues[i], "buffers[" + std::to_string(i) + "]");
    iov[i].iov_base = b.data;
    iov[i].iov_len = b.length;
    total += b.length;
    if (static_cast<int64_t>(total) > kMaxData) ThrowRange(env, "buffers hold more than 2**30 bytes");
  }
  std::vector<Bytes> payloads(items.size());
  size_t controlLen = 0;
  for (size_t i = 0; i < items.size(); i++) {
    payloads[i] = ValueBytes(env, items[i].data, "ancdata[" + std::to_string(i) + "] data");
    if (static_cast<int64_t>(payloads[i].length) > kMaxAncillary) ThrowRange(env, "ancillary data item too large");
    controlLen += CMSG_SPACE(payloads[i].length);
    if (static_cast<int64_t>(controlLen) > kMaxAncillary) ThrowRange(env, "ancillary data too large");
  }
  std::vector<uint8_t> control(controlLen);
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = sslen != 0 ? &ss : nullptr;
  msg.msg_namelen = sslen;
  msg.msg_iov = iov.empty() ? nullptr : iov.data();
  msg.msg_iovlen = iov.size();
  msg.msg_control = controlLen != 0 ? control.data() : nullptr;
  msg.msg_controllen = controlLen;
  cmsghdr* c = controlLen != 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  for (size_t i = 0; i < items.size() && c != nullptr; i++) {
    c->cmsg_level = items[i].level;
    c->cmsg_type = items[i].type;
    c->cmsg_len = CMSG_LEN(payloads[i].length);
    if (payloads[i].length != 0) memcpy(CMSG_DATA(c), payloads[i].data, payloads[i].length);
    c = CMSG_NXTHDR(&msg, c);
  }
  int64_t n = Check(env, SysRetry([&] { return sendmsg(fd, &msg, flags | kSendFlags); }), "sendmsg");
  return Napi::Number::New(env, static_cast<double>(n));
}

// The fds an SCM_RIGHTS item carries; its data length is bounded by what
// the kernel wrote (a truncated item's cmsg_len can claim more).
static void CollectFds(const cmsghdr* c, size_t dataLen, std::vector<int>* fds) {
  if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return;
  const uint8_t* data = CMSG_DATA(c);
  for (size_t off = 0; off + sizeof(int) <= dataLen; off += sizeof(int)) {
    int fd;
    memcpy(&fd, data + off, sizeof fd);
    fds->push_back(fd);
  }
}

static void CloseAll(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

// recvmsg(fd, bufsize, ancbufsize, flags) -> [data, [[level, type, data], ...], msgFlags, address | null]
static Napi::Value Recvmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  size_t bufsize = static_cast<size_t>(ArgInt(info, 1, "bufsize", 0, kMaxData));
  size_t ancbufsize = static_cast<size_t>(ArgIntOr(info, 2, "ancbufsize", 0, kMaxAncillary, 0));
  int flags = static_cast<int>(ArgIntOr(info, 3, "flags", 0, INT32_MAX, 0));

  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, bufsize);
  std::vector<uint8_t> control(ancbufsize);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  iovec iov = {bufsize != 0 ? data.Data() : nullptr, bufsize};
  msghdr msg;
  int64_t n;
  do {
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof ss;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ancbufsize != 0 ? control.data() : nullptr;
    msg.msg_controllen = ancbufsize;
    n = recvmsg(fd, &msg, flags | kRecvFlags);
  } while (n == -1 && errno == EINTR);
  Check(env, Sys(n), "recvmsg");

  // Every fd that arrived, before anything that can throw.
  std::vector<int> fds;
  const uint8_t* base = static_cast<const uint8_t*>(msg.msg_control);
  size_t controlLen = msg.msg_control != nullptr ? msg.msg_controllen : 0;
  if (controlLen > ancbufsize) controlLen = ancbufsize;
  msg.msg_controllen = controlLen;
  auto dataLenOf = [&](const cmsghdr* c) -> size_t {
    size_t avail = controlLen - static_cast<size_t>(reinterpret_cast<const uint8_t*>(c) - base);
    size_t len = c->cmsg_len < avail ? c->cmsg_len : avail;
    return len > CMSG_LEN(0) ? len - CMSG_LEN(0) : 0;
  };
  for (cmsghdr* c = controlLen != 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_len < CMSG_LEN(0)) break;
    CollectFds(c, dataLenOf(c), &fds);
  }
  bool truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  if (truncated) {
    CloseAll(fds);
    fds.clear();
  }
#if !defined(MSG_CMSG_CLOEXEC)
  for (int f : fds) {
    int fl = fcntl(f, F_GETFD);
    if (fl != -1) fcntl(f, F_SETFD, fl | FD_CLOEXEC);
  }
#endif

  try {
    Napi::Array anc = Napi::Array::New(env);
    uint32_t k = 0;
    for (cmsghdr* c = controlLen != 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_len < CMSG_LEN(0)) break;
      if (truncated && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) continue;
      Napi::Array item = Napi::Array::New(env, 3);
      item.Set(uint32_t{0}, Napi::Number::New(env, c->cmsg_level));
      item.Set(uint32_t{1}, Napi::Number::New(env, c->cmsg_type));
      item.Set(uint32_t{2}, Napi::Buffer<uint8_t>::Copy(env, CMSG_DATA(c), dataLenOf(c)));
      anc.Set(k++, item);
    }
    Napi::Array out = Napi::Array::New(env, 4);
    size_t got = static_cast<size_t>(n) < bufsize ? static_cast<size_t>(n) : bufsize;  // MSG_TRUNC reports more
    out.Set(uint32_t{0}, got == bufsize ? data : Napi::Buffer<uint8_t>::Copy(env, data.Data(), got));
    out.Set(uint32_t{1}, anc);
    out.Set(uint32_t{2}, Napi::Number::New(env, msg.msg_flags & ~kRecvFlags));  // Linux echoes MSG_CMSG_CLOEXEC
    out.Set(uint32_t{3}, msg.msg_namelen == 0 ? env.Null() : FormatAddress(env, &ss, msg.msg_namelen));
    return out;
  } catch (...) {
    CloseAll(fds);  // the caller never saw them
    throw;
  }
}

// CMSG_LEN(n) / CMSG_SPACE(n): the control-buffer sizes for an n-byte payload.
static Napi::Value CmsgLen(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), CMSG_LEN(static_cast<size_t>(ArgInt(info, 0, "length", 0, kMaxAncillary))));
}
static Napi::Value CmsgSpace(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), CMSG_SPACE(static_cast<size_t>(ArgInt(info, 0, "length", 0, kMaxAncillary))));
}

void InitMessages(Napi::Env env, Napi::Object exports) {
  exports.Set("sendmsg", Napi::Function::New(env, Sendmsg, "sendmsg"));
  exports.Set("recvmsg", Napi::Function::New(env, Recvmsg, "recvmsg"));
  exports.Set("cmsgLen", Napi::Function::New(env, CmsgLen, "cmsgLen"));
  exports.Set("cmsgSpace", Napi::Function::New(env, CmsgSpace, "cmsgSpace"));
}

}  // namespace asyncore
