/*
 * epoll_echo: a small, near-the-limit TCP echo server in C — the baseline the
 * benchmark compares against.  Single-threaded, non-blocking sockets,
 * level-triggered epoll, TCP_NODELAY on every connection.  Whatever the socket
 * does not take at once is kept and written on EPOLLOUT; while output is
 * pending the connection is not read (back-pressure).
 *
 *   epoll_echo [--host 127.0.0.1] [--port 0] [--backlog 4096]
 *
 * Prints the bound port and a newline on stdout when ready; exits with status
 * 0 on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 65536

typedef struct {
    uint8_t *pending; /* output the socket did not take yet */
    size_t off, len, cap;
} conn_t;

static volatile sig_atomic_t stop;
static conn_t *conns; /* indexed by fd */
static size_t nconns_cap;
static int ep;
static uint8_t buf[BUFSZ];

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void die(const char *msg) {
    fprintf(stderr, "epoll_echo: %s: %s\n", msg, strerror(errno));
    exit(1);
}

static conn_t *conn_for(int fd) {
    if ((size_t)fd >= nconns_cap) {
        size_t ncap = nconns_cap ? nconns_cap : 1024;
        while (ncap <= (size_t)fd) ncap *= 2;
        conns = realloc(conns, ncap * sizeof *conns);
        if (!conns) die("realloc");
        memset(conns + nconns_cap, 0, (ncap - nconns_cap) * sizeof *conns);
        nconns_cap = ncap;
    }
    return &conns[fd];
}

static void conn_close(int fd) {
    conn_t *c = conn_for(fd);
    free(c->pending);
    memset(c, 0, sizeof *c);
    close(fd);
}

static void set_events(int fd, uint32_t ev) {
    struct epoll_event e = {.events = ev, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) < 0) die("epoll_ctl MOD");
}

static void keep(conn_t *c, const uint8_t *data, size_t n) {
    if (c->cap < n) {
        free(c->pending);
        c->cap = n > BUFSZ ? n : BUFSZ;
        c->pending = malloc(c->cap);
        if (!c->pending) die("malloc");
    }
    memcpy(c->pending, data, n);
    c->off = 0;
    c->len = n;
}

static void on_readable(int fd) {
    conn_t *c = conn_for(fd);
    ssize_t n = recv(fd, buf, BUFSZ, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        conn_close(fd);
        return;
    }
    if (n == 0) {
        conn_close(fd);
        return;
    }
    ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(fd);
            return;
        }
        w = 0;
    }
    if (w < n) {
        keep(c, buf + w, (size_t)(n - w));
        set_events(fd, EPOLLOUT); /* stop reading until the output drained */
    }
}

static void on_writable(int fd) {
    conn_t *c = conn_for(fd);
    while (c->len) {
        ssize_t w = send(fd, c->pending + c->off, c->len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            conn_close(fd);
            return;
        }
        c->off += (size_t)w;
        c->len -= (size_t)w;
    }
    set_events(fd, EPOLLIN);
}

static void on_accept(int lfd) {
    for (int i = 0; i < 256; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return;
            if (errno == EMFILE || errno == ENFILE) return; /* retry on the next wake-up */
            die("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_for(fd);
        struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl ADD");
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    const char *port = "0";
    int backlog = 4096;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--host")) host = argv[i + 1];
        else if (!strcmp(argv[i], "--port")) port = argv[i + 1];
        else if (!strcmp(argv[i], "--backlog")) backlog = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: epoll_echo [--host H] [--port P] [--backlog N]\n");
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "epoll_echo: %s: %s\n", host, gai_strerror(rc));
        return 2;
    }
    int lfd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, res->ai_addr, res->ai_addrlen) < 0) die("bind");
    freeaddrinfo(res);
    if (listen(lfd, backlog) < 0) die("listen");

    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(lfd, (struct sockaddr *)&ss, &sl) < 0) die("getsockname");
    int bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event e = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e) < 0) die("epoll_ctl ADD");

    printf("%d\n", bound);
    fflush(stdout);

    struct epoll_event evs[1024];
    while (!stop) {
        int n = epoll_wait(ep, evs, 1024, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            uint32_t ev = evs[i].events;
            if (fd == lfd) {
                on_accept(lfd);
                continue;
            }
            conn_t *c = conn_for(fd);
            if (c->len) {
                if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(fd);
            } else if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                on_readable(fd);
            }
        }
    }
    return 0;
}
