// Socket addresses as Python shapes them: AF_INET [host, port],
// AF_INET6 [host, port, flowinfo, scopeId], AF_UNIX a path string.
// Host names go through getaddrinfo(), as Python's setipaddr() does.
#include "binding.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <cmath>
#include <cstring>
#include <string>

namespace asyncore {

static std::string HostArg(Napi::Env env, Napi::Array a, const char* syscall) {
  Napi::Value h = a.Get(uint32_t{0});
  if (!h.IsString())
    ThrowType(env, std::string(syscall) + "(): address host must be a string");
  std::string host = h.As<Napi::String>().Utf8Value();
  if (host.find('\0') != std::string::npos) ThrowType(env, "address host must not contain NUL");
  return host;
}

// A double holding an integer. Tested before any cast: converting NaN, an
// infinity or a value beyond int64 to an integer is undefined behaviour.
static bool IsIntegral(double d) { return std::isfinite(d) && std::floor(d) == d; }

static int PortArg(Napi::Env env, Napi::Array a, const char* syscall) {
  Napi::Value p = a.Get(uint32_t{1});
  if (!p.IsNumber()) ThrowType(env, std::string(syscall) + "(): address port must be an integer");
  double d = p.As<Napi::Number>().DoubleValue();
  if (!IsIntegral(d)) ThrowType(env, std::string(syscall) + "(): address port must be an integer");
  if (d < 0 || d > 65535) ThrowRange(env, std::string(syscall) + "(): port must be 0-65535");
  return static_cast<int>(d);
}

static uint32_t OptionalU32(Napi::Env env, Napi::Array a, uint32_t i, const char* what) {
  if (a.Length() <= i) return 0;
  Napi::Value v = a.Get(i);
  if (v.IsUndefined()) return 0;
  if (!v.IsNumber()) ThrowType(env, std::string(what) + " must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!IsIntegral(d) || d < 0 || d > 4294967295.0)
    ThrowRange(env, std::string(what) + " must be an integer in 0..2**32-1");
  return static_cast<uint32_t>(d);
}

// Resolve `host` for `family` the way CPython does: '' is the wildcard,
// '<broadcast>' is INADDR_BROADCAST, numeric forms parse directly, anything
// else goes to getaddrinfo() and takes its first answer.
void ResolveHost(Napi::Env env, int family, const std::string& host, sockaddr_storage* out) {
  if (family == AF_INET) {
    sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(out);
    if (host.empty()) { sin->sin_addr.s_addr = htonl(INADDR_ANY); return; }
    if (host == "<broadcast>") { sin->sin_addr.s_addr = htonl(INADDR_BROADCAST); return; }
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) == 1) return;
  } else {
    sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    if (host.empty()) { sin6->sin6_addr = in6addr_any; return; }
    if (host.find('%') == std::string::npos && inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1)
      return;
  }
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) ThrowGaiError(env, rc, "getaddrinfo", host.c_str());
  if (family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(out)->sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  } else {
    sockaddr_in6* src = reinterpret_cast<sockaddr_in6*>(res->ai_addr);
    sockaddr_in6* dst = reinterpret_cast<sockaddr_in6*>(out);
    dst->sin6_addr = src->sin6_addr;
    dst->sin6_scope_id = src->sin6_scope_id;
  }
  freeaddrinfo(res);
}

socklen_t ParseAddress(Napi::Env env, int family, Napi::Value addr, sockaddr_storage* out,
                       const char* syscall) {
  memset(out, 0, sizeof *out);
  if (family == AF_UNIX) {
    sockaddr_un* sun = reinterpret_cast<sockaddr_un*>(out);
    std::string path;
    if (addr.IsString()) {
      path = addr.As<Napi::String>().Utf8Value();
    } else if (addr.IsBuffer()) {
      Napi::Buffer<char> b = addr.As<Napi::Buffer<char>>();
      path.assign(b.Data(), b.Length());
    } else {
      ThrowType(env, std::string(syscall) + "(): an AF_UNIX address must be a path string or Buffer");
    }
    sun->sun_family = AF_UNIX;
#if defined(__linux__)
    // Linux abstract namespace, as CPython: a leading NUL names an abstract
    // address of exactly that length (no terminator, all 108 bytes usable),
    // and '' is the bare family, which autobinds to a fresh abstract address
    // (not the one-byte abstract name "\0" that every caller would share).
    if (path.empty() || path[0] == '\0') {
      if (path.size() > sizeof sun->sun_path)
        ThrowRange(env, std::string(syscall) + "(): AF_UNIX abstract address too long (" +
                            std::to_string(path.size()) + " bytes, limit " +
                            std::to_string(sizeof sun->sun_path) + ")");
      memcpy(sun->sun_path, path.data(), path.size());
      return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    }
#endif
    // A NUL inside a path would silently name a shorter one.
    if (path.find('\0') != std::string::npos)
      ThrowType(env, std::string(syscall) + "(): an AF_UNIX path must not contain NUL");
    if (path.size() >= sizeof sun->sun_path)
      ThrowRange(env, std::string(syscall) + "(): AF_UNIX path too long (" + std::to_string(path.size()) +
                          " bytes, limit " + std::to_string(sizeof sun->sun_path - 1) + ")");
    memcpy(sun->sun_path, path.data(), path.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  if (family != AF_INET && family != AF_INET6)
    ThrowType(env, std::string(syscall) + "(): unsupported address family " + std::to_string(family));
  if (!addr.IsArray())
    ThrowType(env, std::string(syscall) + (family == AF_INET
                                               ? "(): an AF_INET address must be [host, port]"
                                               : "(): an AF_INET6 address must be [host, port, flowinfo?, scopeId?]"));
  Napi::Array a = addr.As<Napi::Array>();
  uint32_t maxLen = family == AF_INET ? 2 : 4;
  if (a.Length() < 2 || a.Length() > maxLen)
    ThrowType(env, std::string(syscall) + "(): address must have 2" + (family == AF_INET ? "" : " to 4") +
                       " elements, got " + std::to_string(a.Length()));
  std::string host = HostArg(env, a, syscall);
  int port = PortArg(env, a, syscall);
  if (family == AF_INET) {
    sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    ResolveHost(env, AF_INET, host, out);
    return sizeof(sockaddr_in);
  }
  sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  uint32_t flowinfo = OptionalU32(env, a, 2, "flowinfo");
  if (flowinfo > 0xfffff) ThrowRange(env, std::string(syscall) + "(): flowinfo must be 0-1048575");
  uint32_t scope = OptionalU32(env, a, 3, "scopeId");
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(static_cast<uint16_t>(port));
  ResolveHost(env, AF_INET6, host, out);
  sin6->sin6_flowinfo = htonl(flowinfo);
  if (scope != 0) sin6->sin6_scope_id = scope;
  return sizeof(sockaddr_in6);
}

// An AF_INET address as one number, host * 65536 + port (48 bits: exact in a
// double), which lib/socket.ts turns into [host, port]. An array and a string
// built through Node-API cost some 3,000 instructions, twice per accepted
// connection (accept, then the dispatcher's getpeername); JavaScript builds
// them for a fraction. Other families come back as FormatAddress() gives them.
Napi::Value FormatAddressCompact(Napi::Env env, const sockaddr_storage* ss, socklen_t len) {
  if (ss->ss_family != AF_INET) return FormatAddress(env, ss, len);
  const sockaddr_in* sin = reinterpret_cast<const sockaddr_in*>(ss);
  double host = static_cast<double>(ntohl(sin->sin_addr.s_addr));
  return Napi::Number::New(env, host * 65536.0 + ntohs(sin->sin_port));
}

Napi::Value FormatAddress(Napi::Env env, const sockaddr_storage* ss, socklen_t len) {
  // The kernel reports the address's full length even when it truncated it
  // to the buffer: never read past the storage.
  if (len > sizeof *ss) len = sizeof *ss;
  char host[INET6_ADDRSTRLEN];
  switch (ss->ss_family) {
    case AF_INET: {
      const sockaddr_in* sin = reinterpret_cast<const sockaddr_in*>(ss);
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      Napi::Array a = Napi::Array::New(env, 2);
      a.Set(uint32_t{0}, Napi::String::New(env, host));
      a.Set(uint32_t{1}, Napi::Number::New(env, ntohs(sin->sin_port)));
      return a;
    }
    case AF_INET6: {
      const sockaddr_in6* sin6 = reinterpret_cast<const sockaddr_in6*>(ss);
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      Napi::Array a = Napi::Array::New(env, 4);
      a.Set(uint32_t{0}, Napi::String::New(env, host));
      a.Set(uint32_t{1}, Napi::Number::New(env, ntohs(sin6->sin6_port)));
      a.Set(uint32_t{2}, Napi::Number::New(env, ntohl(sin6->sin6_flowinfo)));
      a.Set(uint32_t{3}, Napi::Number::New(env, sin6->sin6_scope_id));
      return a;
    }
    case AF_UNIX: {
      const sockaddr_un* sun = reinterpret_cast<const sockaddr_un*>(ss);
      size_t base = offsetof(sockaddr_un, sun_path);
      if (len <= base) return Napi::String::New(env, "");  // unnamed (socketpair, unbound client)
      size_t n = len - base;
      if (n > sizeof sun->sun_path) n = sizeof sun->sun_path;
      if (sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
      return Napi::String::New(env, sun->sun_path, n);
    }
    default:
      return env.Null();
  }
}

}  // namespace asyncore
