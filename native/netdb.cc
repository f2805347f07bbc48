// Name and address services of the C library, as Python's socket module
// offers them: getaddrinfo(), gethostname(), gethostbyname(), the lookup
// behind getfqdn(), inet_pton()/inet_ntop() and the interface-name calls.
// Policy (defaults, idna, getfqdn's choice of name) lives in lib/netdb.ts.
//
// These calls block, as Python's do: a lookup that goes to DNS can take
// seconds. Resolver failures are GaiError (errors.cc); the rest are OSError.
#include "binding.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cstring>
#include <string>
#include <vector>

namespace asyncore {

// A string argument with no NUL (which would silently shorten it), or
// nullptr for null/undefined when `nullable`.
static bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, bool nullable, std::string* out) {
  Napi::Value v = i < info.Length() ? info[i] : info.Env().Undefined();
  if (nullable && (v.IsNull() || v.IsUndefined())) return false;
  if (!v.IsString())
    ThrowType(info.Env(), std::string(name) + " must be a string" + (nullable ? " or null" : ""));
  *out = v.As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) ThrowType(info.Env(), std::string(name) + " must not contain NUL");
  return true;
}

// getaddrinfo(host | null, port: string | integer | null, family, type, proto, flags)
//   -> [[family, type, proto, canonname, address], ...]
// As CPython: an integer port is passed as its decimal text, '' canonname
// when none was asked for, addresses in the shapes of FormatAddress().
static Napi::Value Getaddrinfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host, port;
  bool hasHost = ArgString(info, 0, "host", true, &host);
  bool hasPort = false;
  if (info.Length() > 1 && info[1].IsNumber()) {
    port = std::to_string(ArgInt(info, 1, "port", -(1LL << 53), 1LL << 53));
    hasPort = true;
  } else {
    if (info.Length() > 1 && !info[1].IsString() && !info[1].IsNull() && !info[1].IsUndefined())
      ThrowType(env, "port must be a string, an integer or null");
    hasPort = ArgString(info, 1, "port", true, &port);
  }
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = static_cast<int>(ArgIntOr(info, 2, "family", INT32_MIN, INT32_MAX, 0));
  hints.ai_socktype = static_cast<int>(ArgIntOr(info, 3, "type", INT32_MIN, INT32_MAX, 0));
  hints.ai_protocol = static_cast<int>(ArgIntOr(info, 4, "proto", INT32_MIN, INT32_MAX, 0));
  hints.ai_flags = static_cast<int>(ArgIntOr(info, 5, "flags", INT32_MIN, INT32_MAX, 0));
  addrinfo* res = nullptr;
  int rc = getaddrinfo(hasHost ? host.c_str() : nullptr, hasPort ? port.c_str() : nullptr, &hints, &res);
  if (rc != 0) ThrowGaiError(env, rc, "getaddrinfo", hasHost ? host.c_str() : nullptr);
  Napi::Array out = Napi::Array::New(env);
  try {
    uint32_t n = 0;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      sockaddr_storage ss;
      memset(&ss, 0, sizeof ss);
      socklen_t len = ai->ai_addrlen > sizeof ss ? sizeof ss : ai->ai_addrlen;
      memcpy(&ss, ai->ai_addr, len);
      Napi::Array t = Napi::Array::New(env, 5);
      t.Set(uint32_t{0}, Napi::Number::New(env, ai->ai_family));
      t.Set(uint32_t{1}, Napi::Number::New(env, ai->ai_socktype));
      t.Set(uint32_t{2}, Napi::Number::New(env, ai->ai_protocol));
      t.Set(uint32_t{3}, Napi::String::New(env, ai->ai_canonname != nullptr ? ai->ai_canonname : ""));
      t.Set(uint32_t{4}, FormatAddress(env, &ss, len));
      out.Set(n++, t);
    }
  } catch (...) {
    freeaddrinfo(res);
    throw;
  }
  freeaddrinfo(res);
  return out;
}

static Napi::Value Gethostname(const Napi::CallbackInfo& info) {
  char buf[1024];
  Check(info.Env(), Sys(gethostname(buf, sizeof buf - 1)), "gethostname");
  buf[sizeof buf - 1] = '\0';
  return Napi::String::New(info.Env(), buf);
}

// gethostbyname(name) -> dotted IPv4 text, resolved as bind() and connect() resolve.
static Napi::Value Gethostbyname(const Napi::CallbackInfo& info) {
  std::string host;
  ArgString(info, 0, "hostname", false, &host);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  ResolveHost(info.Env(), AF_INET, host, &ss);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
  return Napi::String::New(info.Env(), text);
}

// The address `name` stands for, any family (CPython's setipaddr with AF_UNSPEC).
static socklen_t ResolveAny(Napi::Env env, const std::string& name, sockaddr_storage* ss) {
  memset(ss, 0, sizeof *ss);
  sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET, name.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    return sizeof *sin;
  }
  sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET6, name.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    return sizeof *sin6;
  }
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  addrinfo* res = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) ThrowGaiError(env, rc, "getaddrinfo", name.c_str());
  socklen_t len = res->ai_addrlen > sizeof *ss ? sizeof *ss : res->ai_addrlen;
  memcpy(ss, res->ai_addr, len);
  freeaddrinfo(res);
  return len;
}

// hostByAddr(name) -> [hostname, aliases, addresses], or null when the
// address has no name: what lib/netdb.ts getfqdn() needs of Python's
// gethostbyaddr() (whose h_errno failures, socket.herror, are not modelled).
static Napi::Value HostByAddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  ArgString(info, 0, "name", false, &name);
  sockaddr_storage ss;
  socklen_t sslen = ResolveAny(env, name, &ss);
  Napi::Array aliases = Napi::Array::New(env);
  Napi::Array addrs = Napi::Array::New(env);
  std::string hostname;
#if defined(__GLIBC__)
  const void* addr;
  socklen_t alen;
  if (ss.ss_family == AF_INET) {
    addr = &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr;
    alen = sizeof(in_addr);
  } else {
    addr = &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr;
    alen = sizeof(in6_addr);
  }
  std::vector<char> buf(16384);
  hostent he;
  hostent* result = nullptr;
  int herr = 0;
  int rc;
  while ((rc = gethostbyaddr_r(addr, alen, ss.ss_family, &he, buf.data(), buf.size(), &result, &herr)) == ERANGE &&
         buf.size() < (1u << 22))
    buf.resize(buf.size() * 2);
  if (rc != 0 || result == nullptr) return env.Null();
  hostname = he.h_name != nullptr ? he.h_name : "";
  uint32_t n = 0;
  for (char** a = he.h_aliases; a != nullptr && *a != nullptr; a++) aliases.Set(n++, Napi::String::New(env, *a));
  n = 0;
  for (char** a = he.h_addr_list; a != nullptr && *a != nullptr; a++) {
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(he.h_addrtype, *a, text, sizeof text) != nullptr) addrs.Set(n++, Napi::String::New(env, text));
  }
#else
  // No reentrant gethostbyaddr: the name alone, through getnameinfo().
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), sslen, host, sizeof host, nullptr, 0, NI_NAMEREQD) != 0)
    return env.Null();
  hostname = host;
  char text[INET6_ADDRSTRLEN];
  const void* a = ss.ss_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&ss)->sin_addr)
                                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr);
  if (inet_ntop(ss.ss_family, a, text, sizeof text) != nullptr) addrs.Set(uint32_t{0}, Napi::String::New(env, text));
#endif
  (void)sslen;
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(uint32_t{0}, Napi::String::New(env, hostname));
  out.Set(uint32_t{1}, aliases);
  out.Set(uint32_t{2}, addrs);
  return out;
}

static size_t PackedSize(int family) {
  return family == AF_INET ? sizeof(in_addr) : family == AF_INET6 ? sizeof(in6_addr) : 0;
}

// inetPton(family, text) -> Buffer of 4 or 16 bytes. As Python: an unknown
// family is the C library's EAFNOSUPPORT, unparsable text an OSError with
// Python's message (errno EINVAL here; Python leaves errno None).
static Napi::Value InetPton(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = static_cast<int>(ArgInt(info, 0, "family", INT32_MIN, INT32_MAX));
  std::string text;
  ArgString(info, 1, "ipString", false, &text);
  if (PackedSize(family) == 0) ThrowErrno(env, EAFNOSUPPORT, "inet_pton");
  uint8_t packed[sizeof(in6_addr)];
  if (inet_pton(family, text.c_str(), packed) != 1)
    throw Napi::Error(env, MakeOSError(env, EINVAL, "inet_pton", "illegal IP address string passed to inet_pton"));
  return Napi::Buffer<uint8_t>::Copy(env, packed, PackedSize(family));
}

// inetNtop(family, packed) -> text. Python's ValueErrors (unknown family,
// wrong length) are RangeErrors.
static Napi::Value InetNtop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = static_cast<int>(ArgInt(info, 0, "family", INT32_MIN, INT32_MAX));
  size_t want = PackedSize(family);
  if (want == 0) ThrowRange(env, "unknown address family " + std::to_string(family));
  Bytes b = ArgBytes(info, 1, "packedIp");
  if (b.length != want)
    ThrowRange(env, "invalid length of packed IP address string (" + std::to_string(b.length) + " bytes, " +
                        std::to_string(want) + " expected)");
  uint8_t packed[sizeof(in6_addr)];
  memcpy(packed, b.data, want);
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family, packed, text, sizeof text) == nullptr) ThrowErrno(env, errno, "inet_ntop");
  return Napi::String::New(env, text);
}

// ifNametoindex(name) -> index; no such interface: OSError ENODEV with Python's message.
static Napi::Value IfNametoindex(const Napi::CallbackInfo& info) {
  std::string name;
  ArgString(info, 0, "ifname", false, &name);
  errno = 0;
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0)
    throw Napi::Error(info.Env(), MakeOSError(info.Env(), errno != 0 ? errno : ENODEV, "if_nametoindex",
                                              "no interface with this name"));
  return Napi::Number::New(info.Env(), idx);
}

// ifIndextoname(index) -> name; no such index: OSError ENXIO, as Python.
static Napi::Value IfIndextoname(const Napi::CallbackInfo& info) {
  unsigned idx = static_cast<unsigned>(ArgInt(info, 0, "ifindex", 0, UINT32_MAX));
  char name[IF_NAMESIZE + 1];
  if (if_indextoname(idx, name) == nullptr) ThrowErrno(info.Env(), errno != 0 ? errno : ENXIO, "if_indextoname");
  return Napi::String::New(info.Env(), name);
}

// ifNameindex() -> [[index, name], ...]
static Napi::Value IfNameindex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct if_nameindex* ni = if_nameindex();
  if (ni == nullptr) ThrowErrno(env, errno != 0 ? errno : ENOMEM, "if_nameindex");
  Napi::Array out = Napi::Array::New(env);
  try {
    uint32_t n = 0;
    for (struct if_nameindex* p = ni; p->if_index != 0 || p->if_name != nullptr; p++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(uint32_t{0}, Napi::Number::New(env, p->if_index));
      pair.Set(uint32_t{1}, Napi::String::New(env, p->if_name != nullptr ? p->if_name : ""));
      out.Set(n++, pair);
    }
  } catch (...) {
    if_freenameindex(ni);
    throw;
  }
  if_freenameindex(ni);
  return out;
}

void InitNetdb(Napi::Env env, Napi::Object exports) {
  struct Entry { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); };
  static const Entry entries[] = {
      {"getaddrinfo", Getaddrinfo},     {"gethostname", Gethostname},   {"gethostbyname", Gethostbyname},
      {"hostByAddr", HostByAddr},       {"inetPton", InetPton},         {"inetNtop", InetNtop},
      {"ifNametoindex", IfNametoindex}, {"ifIndextoname", IfIndextoname}, {"ifNameindex", IfNameindex},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace asyncore
