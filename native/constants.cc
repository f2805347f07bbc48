// The platform's values of the socket and readiness constants.
#include "binding.h"

#include <cerrno>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>

namespace asyncore {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define K(name) c.Set(#name, Napi::Number::New(env, name))
  K(AF_INET); K(AF_INET6); K(AF_UNIX); K(AF_UNSPEC);
  K(SOCK_STREAM); K(SOCK_DGRAM); K(SOCK_RAW); K(SOCK_SEQPACKET);
#if defined(SOCK_NONBLOCK)
  K(SOCK_NONBLOCK); K(SOCK_CLOEXEC);
#endif
  K(SOL_SOCKET); K(SO_REUSEADDR); K(SO_ERROR); K(SO_KEEPALIVE); K(SO_RCVBUF); K(SO_SNDBUF);
  K(SO_LINGER); K(SO_BROADCAST); K(SO_TYPE); K(SO_RCVLOWAT); K(SO_SNDLOWAT); K(SO_ACCEPTCONN);
  K(SO_OOBINLINE);
#if defined(SO_REUSEPORT)
  K(SO_REUSEPORT);
#endif
#if defined(SO_DOMAIN)
  K(SO_DOMAIN);
#endif
  K(IPPROTO_IP); K(IPPROTO_TCP); K(IPPROTO_UDP); K(IPPROTO_IPV6);
  K(IPV6_V6ONLY); K(TCP_NODELAY);
  K(SHUT_RD); K(SHUT_WR); K(SHUT_RDWR);
  K(MSG_OOB); K(MSG_PEEK); K(MSG_DONTWAIT); K(MSG_WAITALL); K(MSG_TRUNC);
#if defined(MSG_NOSIGNAL)
  K(MSG_NOSIGNAL);
#endif
  K(SOMAXCONN); K(INADDR_ANY);
  // Ancillary data (sendmsg/recvmsg).
  K(SCM_RIGHTS); K(MSG_CTRUNC); K(MSG_EOR);
#if defined(MSG_CMSG_CLOEXEC)
  K(MSG_CMSG_CLOEXEC);
#endif
  // getaddrinfo() flags and its EAI_* error codes (GaiError's errno), the
  // standard ones first: where two names share a value, the first names it.
  K(AI_PASSIVE); K(AI_CANONNAME); K(AI_NUMERICHOST); K(AI_NUMERICSERV); K(AI_ADDRCONFIG);
  K(AI_V4MAPPED); K(AI_ALL);
  K(EAI_AGAIN); K(EAI_BADFLAGS); K(EAI_FAIL); K(EAI_FAMILY); K(EAI_MEMORY); K(EAI_NONAME);
  K(EAI_SERVICE); K(EAI_SOCKTYPE); K(EAI_SYSTEM); K(EAI_OVERFLOW);
#if defined(EAI_NODATA)
  K(EAI_NODATA);
#endif
#if defined(EAI_ADDRFAMILY)
  K(EAI_ADDRFAMILY);
#endif
  K(ESHUTDOWN);  // missing from os.constants.errno, but one of asyncore's disconnect errnos
  K(POLLIN); K(POLLPRI); K(POLLOUT); K(POLLERR); K(POLLHUP); K(POLLNVAL);
#if defined(POLLRDHUP)
  K(POLLRDHUP);
#endif
#if defined(__linux__)
  K(EPOLLIN); K(EPOLLPRI); K(EPOLLOUT); K(EPOLLERR); K(EPOLLHUP); K(EPOLLRDHUP);
  c.Set("EPOLLET", Napi::Number::New(env, static_cast<double>(static_cast<int32_t>(EPOLLET))));
  K(EPOLLONESHOT);
  K(EPOLL_CTL_ADD); K(EPOLL_CTL_MOD); K(EPOLL_CTL_DEL);
#endif
#undef K
  exports.Set("constants", c);
}

}  // namespace asyncore
