/*
 * loadgen: an epoll-based TCP load generator for echo servers.
 *
 *   loadgen --port P [--host 127.0.0.1] [--mode pingpong|stream|churn]
 *           [--conns N] [--size S] [--duration SEC] [--warmup SEC]
 *           [--window BYTES] [--connect-timeout SEC] [--cpu-pid PID]
 *           [--src-ips N]
 *
 * Modes
 *   pingpong  N connections; each sends a message of S bytes and waits for
 *             the whole echo before sending the next.  Reports round trips/s
 *             and per-round-trip latency (p50/p90/p99/p99.9/max).
 *   stream    N connections (default 1), each writing S-byte writes (default
 *             64 KiB) continuously while reading the echo back, with at most
 *             --window bytes (default 1 MiB) un-echoed.  Reports MB/s echoed
 *             and per-write latency: from the start of a write to the end of
 *             its echo (it includes the queueing behind the window).
 *   churn     N connections in flight (default 32); each connects, sends S
 *             bytes (default 64), reads the S-byte echo and closes.  Reports
 *             connections/s and per-connection latency.
 *
 * Every echoed byte is checked.  Byte k of the stream of connection c is
 * pat[(k + c * 7919) % P] where pat is a pseudo-random table and P = 65521
 * (a prime), so the content differs per connection and per message.
 *
 * --src-ips N spreads the connections over the source addresses 127.0.0.2 …
 * 127.0.0.(N+1) (default: 64 for churn against a 127.x address, else 0).
 * Without it, churn leaves the ephemeral port range crowded with TIME_WAIT
 * sockets and the generator's connect() becomes the bottleneck.
 *
 * The run is: establish connections (pingpong/stream), --warmup seconds of
 * load, then --duration seconds measured.  With --cpu-pid the user+system
 * CPU time of that process (e.g. the server) across the measured window is
 * reported, and its minor page faults (a server that keeps touching fresh
 * memory pays for it in the kernel).  One JSON object is printed on stdout.  Exit status 0 when the
 * run was clean (no mismatch, no error), 1 otherwise, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 65521u
#define RBUF 65536
#define MAX_SAMPLES (4u << 20)

enum { M_PINGPONG, M_STREAM, M_CHURN };
enum { S_IDLE, S_CONNECTING, S_ACTIVE, S_DEAD };
enum { PH_CONNECT, PH_WARMUP, PH_MEASURE };

typedef struct {
    int fd;
    int state;
    uint64_t ident;      /* pattern identity (conn index, or churn sequence) */
    uint64_t sent;       /* bytes of the stream written */
    uint64_t recvd;      /* bytes of the stream read back (and verified) */
    uint64_t msg_end;    /* pingpong/churn: stream offset at the end of the current message */
    uint64_t chunk_end;  /* stream: end offset of the write in progress */
    double t_start;      /* start of the current round trip / connection */
    double *chunk_t;     /* stream: start time of each write in flight, by write number mod chunk_ring */
    uint32_t events;     /* registered epoll events */
} conn_t;

/* options */
static const char *opt_host = "127.0.0.1";
static int opt_port = 0;
static int opt_mode = M_PINGPONG;
static long opt_conns = -1;
static long opt_size = -1;
static double opt_duration = 5.0;
static double opt_warmup = 1.0;
static long opt_window = 1 << 20;
static double opt_connect_timeout = 10.0;
static long opt_cpu_pid = 0;
static long opt_max_errors = 10000;
static long opt_src_ips = -1;
static unsigned long src_next;

static uint8_t *pat;
static size_t pat_len;
static struct sockaddr_storage addr;
static socklen_t addr_len;
static int ep;
static conn_t *conns;
static long nconns;
static uint8_t rbuf[RBUF];
static size_t chunk_ring; /* stream: slots in conn_t.chunk_t (writes that can be in flight, + 2) */

/* counters; reset when the measured window starts */
static int phase = PH_CONNECT;
static double t_measure_start, t_measure_end;
static uint64_t ops, bytes_echoed;
static uint64_t mismatches, mismatch_bytes;
static uint64_t err_connect, err_reset, err_eof, err_extra, err_other;
static uint64_t total_mismatches, total_errors; /* over the whole run */
static float *samples;
static uint64_t nsamples_seen;
static uint32_t nsamples;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t churn_seq;
static uint64_t fast_connects; /* churn: connections whose message went out straight after connect() */
static long connected_count;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void die(const char *msg) {
    fprintf(stderr, "loadgen: %s: %s\n", msg, strerror(errno));
    exit(1);
}

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --port P [--host H] [--mode pingpong|stream|churn] [--conns N]\n"
            "               [--size S] [--duration SEC] [--warmup SEC] [--window BYTES]\n"
            "               [--connect-timeout SEC] [--cpu-pid PID] [--max-errors N] [--src-ips N]\n");
    exit(2);
}

static double cpu_of_pid(long pid, unsigned long long *minflt) {
    /* utime + stime (fields 14 and 15) of /proc/<pid>/stat, in seconds; <0 on failure;
       *minflt: its minor page faults (field 10) */
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    p += 2;
    unsigned long long ut = 0, st = 0;
    /* after ')': state(3) ppid pgrp session tty_nr tpgid flags minflt(10) cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %*u %*u %llu %llu", minflt, &ut, &st) != 3) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* System-wide CPU time from the first line of /proc/stat, in seconds:
   busy (user nice system irq softirq) and steal.  0 on success. */
static int system_cpu(double *busy, double *steal) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]);
    fclose(f);
    if (n < 7) return -1;
    double tck = (double)sysconf(_SC_CLK_TCK);
    *busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / tck;
    *steal = v[7] / tck;
    return 0;
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void add_sample(double us) {
    nsamples_seen++;
    if (nsamples < MAX_SAMPLES) {
        samples[nsamples++] = (float)us;
    } else {
        uint64_t j = xorshift() % nsamples_seen; /* reservoir sampling */
        if (j < MAX_SAMPLES) samples[j] = (float)us;
    }
}

static inline const uint8_t *pat_at(const conn_t *c, uint64_t k) {
    return pat + (size_t)((k + c->ident * 7919u) % PERIOD);
}

/* Verify n received bytes at stream offset c->recvd. */
static void verify(conn_t *c, const uint8_t *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        size_t len = n - done;
        if (len > pat_len - PERIOD) len = pat_len - PERIOD;
        const uint8_t *exp = pat_at(c, c->recvd + done);
        if (memcmp(buf + done, exp, len) != 0) {
            uint64_t bad = 0;
            for (size_t i = 0; i < len; i++) bad += buf[done + i] != exp[i];
            mismatches++;
            mismatch_bytes += bad;
            total_mismatches++;
        }
        done += len;
    }
}

static void set_events(conn_t *c, uint32_t ev) {
    if (c->events == ev) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0) die("epoll_ctl MOD");
    c->events = ev;
}

static void conn_close(conn_t *c, int state) {
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        c->fd = -1;
    }
    if (c->state == S_ACTIVE) connected_count--;
    c->state = state;
}

static void count_error(uint64_t *which) {
    (*which)++;
    total_errors++;
}

static int write_upto(conn_t *c, uint64_t upto);

static void conn_open(conn_t *c) {
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    /* churn sends one message per connection, which Nagle never holds back */
    if (opt_mode != M_CHURN) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt_src_ips > 0) {
        /* spread the connections over source addresses 127.0.0.2 … so that the
           TIME_WAIT sockets of earlier connections do not crowd the ephemeral
           port range (connect() then scans for a free port at great cost) */
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(src_next++ % (unsigned long)opt_src_ips));
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind (source address)");
    }
    c->fd = fd;
    c->state = S_CONNECTING;
    c->sent = c->recvd = c->msg_end = c->chunk_end = 0;
    c->t_start = now();
    if (connect(fd, (struct sockaddr *)&addr, addr_len) < 0 && errno != EINPROGRESS) {
        /* immediate failure: report it through the event loop as a connect error */
        count_error(&err_connect);
        close(fd);
        c->fd = -1;
        c->state = S_DEAD;
        return;
    }
    uint32_t events = EPOLLOUT;
    if (opt_mode == M_CHURN) {
        /* On loopback the handshake is normally complete when connect()
           returns: send the message at once and wait only for the echo
           (saves the generator an EPOLLOUT wake-up, a getsockopt and an
           epoll_ctl per connection, so that it stays ahead of fast servers).
           A socket still connecting refuses with EAGAIN, sends nothing, and
           takes the usual path: EPOLLOUT, SO_ERROR, then the message. */
        c->msg_end = (uint64_t)opt_size;
        int r = write_upto(c, c->msg_end);
        if (r < 0) {
            close(fd);
            c->fd = -1;
            c->state = S_DEAD;
            return;
        }
        if (c->sent > 0) {
            c->state = S_ACTIVE;
            connected_count++;
            events = r > 0 ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
            fast_connects++;
        } else {
            c->msg_end = 0;
        }
    }
    struct epoll_event e = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl ADD");
    c->events = events;
}

/* Write as much of [c->sent, upto) as the socket takes.  Returns 0 when all
   written, 1 when blocked (EAGAIN), -1 on error (connection closed). */
static int write_upto(conn_t *c, uint64_t upto) {
    while (c->sent < upto) {
        size_t len = (size_t)(upto - c->sent);
        if (len > pat_len - PERIOD) len = pat_len - PERIOD;
        ssize_t n = send(c->fd, pat_at(c, c->sent), len, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        if (n < 0 && errno == EINTR) continue;
        count_error(errno == ECONNRESET || errno == EPIPE ? &err_reset : &err_other);
        return -1;
    }
    return 0;
}

static void start_message(conn_t *c) {
    c->msg_end = c->sent + (uint64_t)opt_size;
    c->t_start = now();
}

/* Drive the writing side of a connection and set its epoll interest. */
static void pump_write(conn_t *c) {
    int r;
    if (opt_mode == M_STREAM) {
        for (;;) {
            if (c->sent == c->chunk_end) {
                if (c->sent - c->recvd + (uint64_t)opt_size > (uint64_t)opt_window) {
                    set_events(c, EPOLLIN); /* window full: wait for echoes */
                    return;
                }
                c->chunk_end = c->sent + (uint64_t)opt_size;
                c->chunk_t[(c->sent / (uint64_t)opt_size) % chunk_ring] = now();
            }
            r = write_upto(c, c->chunk_end);
            if (r < 0) { conn_close(c, S_DEAD); return; }
            if (r > 0) { set_events(c, EPOLLIN | EPOLLOUT); return; }
        }
    }
    r = write_upto(c, c->msg_end);
    if (r < 0) { conn_close(c, S_DEAD); return; }
    set_events(c, r > 0 ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
}

static void on_connected(conn_t *c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err) {
        count_error(&err_connect);
        conn_close(c, S_DEAD);
        return;
    }
    c->state = S_ACTIVE;
    connected_count++;
    if (opt_mode == M_STREAM) {
        pump_write(c);
    } else {
        double t0 = c->t_start; /* churn: latency counts from connect() */
        start_message(c);
        if (opt_mode == M_CHURN) c->t_start = t0;
        pump_write(c);
    }
}

static void churn_restart(conn_t *c) {
    c->ident = churn_seq++;
    conn_open(c);
}

static void on_readable(conn_t *c) {
    ssize_t n = recv(c->fd, rbuf, RBUF, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        count_error(errno == ECONNRESET ? &err_reset : &err_other);
        conn_close(c, S_DEAD);
        return;
    }
    if (n == 0) {
        count_error(&err_eof);
        conn_close(c, S_DEAD);
        return;
    }
    size_t got = (size_t)n;
    uint64_t limit = opt_mode == M_STREAM ? c->sent : c->msg_end;
    if (c->recvd + got > limit) {
        /* more bytes than were sent: the server made something up */
        count_error(&err_extra);
        total_mismatches++;
        mismatches++;
        mismatch_bytes += c->recvd + got - limit;
        got = (size_t)(limit - c->recvd);
    }
    verify(c, rbuf, got);
    uint64_t before = c->recvd;
    c->recvd += got;
    if (phase == PH_MEASURE) bytes_echoed += got;

    if (opt_mode == M_STREAM) {
        /* a latency sample for each write whose last byte came back */
        uint64_t sz = (uint64_t)opt_size;
        if (phase == PH_MEASURE && c->recvd / sz > before / sz) {
            double t = now();
            for (uint64_t k = before / sz; k < c->recvd / sz; k++) {
                double t0 = c->chunk_t[k % chunk_ring];
                if (t0 >= t_measure_start) add_sample((t - t0) * 1e6);
            }
        }
        pump_write(c);
        return;
    }
    if (c->recvd < c->msg_end) return;
    /* a whole message came back */
    double t = now();
    if (phase == PH_MEASURE && c->t_start >= t_measure_start) {
        ops++;
        add_sample((t - c->t_start) * 1e6);
    }
    if (opt_mode == M_CHURN) {
        conn_close(c, S_IDLE);
        churn_restart(c);
        return;
    }
    start_message(c);
    pump_write(c);
}

static void reset_window(double t) {
    t_measure_start = t;
    ops = bytes_echoed = 0;
    mismatches = mismatch_bytes = 0;
    err_connect = err_reset = err_eof = err_extra = err_other = 0;
    nsamples = 0;
    nsamples_seen = 0;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double pct(double p) {
    if (!nsamples) return 0;
    size_t i = (size_t)(p * (nsamples - 1) + 0.5);
    return samples[i];
}

static void parse_args(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
        if (!v) usage();
        if (!strcmp(a, "--host")) opt_host = v;
        else if (!strcmp(a, "--port")) opt_port = atoi(v);
        else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "pingpong") || !strcmp(v, "ping-pong")) opt_mode = M_PINGPONG;
            else if (!strcmp(v, "stream")) opt_mode = M_STREAM;
            else if (!strcmp(v, "churn")) opt_mode = M_CHURN;
            else usage();
        } else if (!strcmp(a, "--conns")) opt_conns = atol(v);
        else if (!strcmp(a, "--size")) opt_size = atol(v);
        else if (!strcmp(a, "--duration")) opt_duration = atof(v);
        else if (!strcmp(a, "--warmup")) opt_warmup = atof(v);
        else if (!strcmp(a, "--window")) opt_window = atol(v);
        else if (!strcmp(a, "--connect-timeout")) opt_connect_timeout = atof(v);
        else if (!strcmp(a, "--cpu-pid")) opt_cpu_pid = atol(v);
        else if (!strcmp(a, "--max-errors")) opt_max_errors = atol(v);
        else if (!strcmp(a, "--src-ips")) opt_src_ips = atol(v);
        else usage();
        i++;
    }
    if (opt_port <= 0 || opt_port > 65535) usage();
    if (opt_conns < 0) opt_conns = opt_mode == M_PINGPONG ? 1 : opt_mode == M_STREAM ? 1 : 32;
    if (opt_size < 0) opt_size = opt_mode == M_STREAM ? 65536 : 64;
    if (opt_conns < 1 || opt_size < 1 || opt_duration <= 0 || opt_warmup < 0) usage();
    if (opt_mode == M_STREAM && opt_window < opt_size) opt_window = opt_size;
}

static void resolve(void) {
    struct addrinfo hints = {0}, *res;
    char port[16];
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", opt_port);
    int rc = getaddrinfo(opt_host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "loadgen: %s: %s\n", opt_host, gai_strerror(rc));
        exit(2);
    }
    memcpy(&addr, res->ai_addr, res->ai_addrlen);
    addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static void pick_src_ips(void) {
    /* churn against a loopback IPv4 address: 64 source addresses by default */
    int loop4 = addr.ss_family == AF_INET &&
                (ntohl(((struct sockaddr_in *)&addr)->sin_addr.s_addr) >> 24) == 127;
    if (opt_src_ips < 0) opt_src_ips = opt_mode == M_CHURN && loop4 ? 64 : 0;
    if (opt_src_ips > 0 && !loop4) {
        fprintf(stderr, "loadgen: --src-ips needs a 127.x.x.x server address\n");
        exit(2);
    }
    if (opt_src_ips > 16000000) opt_src_ips = 16000000;
}

static void raise_nofile(long want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    resolve();
    pick_src_ips();
    raise_nofile(opt_conns + 64);

    /* pattern table: pat[i] for i < PERIOD, repeated so that any run of up to
       max(size, RBUF) bytes starting below PERIOD is contiguous */
    size_t maxchunk = (size_t)opt_size > RBUF ? (size_t)opt_size : RBUF;
    if (maxchunk > (16u << 20)) maxchunk = 16u << 20;
    pat_len = PERIOD + maxchunk;
    pat = malloc(pat_len);
    samples = malloc(sizeof(float) * MAX_SAMPLES);
    conns = calloc((size_t)opt_conns, sizeof *conns);
    if (!pat || !samples || !conns) die("malloc");
    if (opt_mode == M_STREAM) {
        chunk_ring = (size_t)(opt_window / opt_size) + 2;
        for (long i = 0; i < opt_conns; i++) {
            conns[i].chunk_t = calloc(chunk_ring, sizeof(double));
            if (!conns[i].chunk_t) die("malloc");
        }
    }
    for (size_t i = 0; i < PERIOD; i++) pat[i] = (uint8_t)(xorshift() >> 24);
    for (size_t i = PERIOD; i < pat_len; i++) pat[i] = pat[(i - PERIOD) % PERIOD];

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    nconns = opt_conns;

    double t0 = now();
    for (long i = 0; i < nconns; i++) {
        conns[i].fd = -1;
        conns[i].ident = (uint64_t)i;
        if (opt_mode == M_CHURN) churn_restart(&conns[i]);
        else conn_open(&conns[i]);
    }
    double t_phase_end;
    if (opt_mode == M_CHURN) {
        phase = PH_WARMUP;
        t_phase_end = t0 + opt_warmup;
    } else {
        phase = PH_CONNECT;
        t_phase_end = t0 + opt_connect_timeout;
    }
    double cpu_srv0 = -1, cpu_self0 = 0, cpu_srv1 = -1, cpu_self1 = 0;
    unsigned long long flt_srv0 = 0, flt_srv1 = 0;
    double sys_busy0 = 0, sys_steal0 = 0, sys_busy1 = 0, sys_steal1 = 0;
    int sys_ok = 0;
    int timed_out_connecting = 0;
    struct epoll_event evs[1024];

    for (;;) {
        double t = now();
        if (phase == PH_CONNECT && connected_count >= nconns) {
            phase = PH_WARMUP;
            t_phase_end = t + opt_warmup;
        }
        if (t >= t_phase_end) {
            if (phase == PH_CONNECT) {
                timed_out_connecting = 1;
                break;
            } else if (phase == PH_WARMUP) {
                phase = PH_MEASURE;
                reset_window(t);
                if (opt_cpu_pid) cpu_srv0 = cpu_of_pid(opt_cpu_pid, &flt_srv0);
                cpu_self0 = self_cpu();
                sys_ok = system_cpu(&sys_busy0, &sys_steal0) == 0;
                t_phase_end = t + opt_duration;
            } else {
                t_measure_end = t;
                if (opt_cpu_pid) cpu_srv1 = cpu_of_pid(opt_cpu_pid, &flt_srv1);
                cpu_self1 = self_cpu();
                sys_ok = sys_ok && system_cpu(&sys_busy1, &sys_steal1) == 0;
                break;
            }
        }
        if ((long)total_errors > opt_max_errors) {
            t_measure_end = t;
            if (phase == PH_MEASURE && opt_cpu_pid) cpu_srv1 = cpu_of_pid(opt_cpu_pid, &flt_srv1);
            cpu_self1 = self_cpu();
            break;
        }
        /* pingpong/stream: a dead connection is not replaced, the run goes on
           with the others; if all are dead, stop */
        if (opt_mode != M_CHURN && phase != PH_CONNECT && connected_count == 0) {
            t_measure_end = t;
            if (phase == PH_MEASURE && opt_cpu_pid) cpu_srv1 = cpu_of_pid(opt_cpu_pid, &flt_srv1);
            cpu_self1 = self_cpu();
            break;
        }
        if (opt_mode == M_CHURN) {
            /* restart slots whose connect() failed at once */
            for (long i = 0; i < nconns; i++)
                if (conns[i].state == S_DEAD) churn_restart(&conns[i]);
        } else if (phase == PH_CONNECT) {
            long dead = 0;
            for (long i = 0; i < nconns; i++) dead += conns[i].state == S_DEAD;
            if (dead && connected_count + dead >= nconns) {
                timed_out_connecting = 1;
                break;
            }
        }
        int timeout_ms = (int)((t_phase_end - t) * 1000) + 1;
        if (timeout_ms > 100) timeout_ms = 100;
        if (timeout_ms < 0) timeout_ms = 0;
        int n = epoll_wait(ep, evs, 1024, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            if (c->fd < 0) continue;
            if (c->state == S_CONNECTING) {
                if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                    on_connected(c);
                    if (opt_mode == M_CHURN && c->state == S_DEAD) churn_restart(c);
                }
                continue;
            }
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                int before = c->state;
                uint64_t ident = c->ident;
                on_readable(c);
                if (opt_mode == M_CHURN && c->state == S_DEAD) churn_restart(c);
                if (c->fd < 0 || c->state != before || c->ident != ident) continue;
            }
            if ((e & EPOLLOUT) && c->state == S_ACTIVE) pump_write(c);
            if (opt_mode == M_CHURN && c->state == S_DEAD) churn_restart(c);
        }
    }

    int measured = phase == PH_MEASURE;
    double elapsed = measured ? t_measure_end - t_measure_start : 0;
    qsort(samples, nsamples, sizeof(float), cmp_float);
    double mean = 0;
    for (uint32_t i = 0; i < nsamples; i++) mean += samples[i];
    if (nsamples) mean /= nsamples;
    if (opt_mode == M_STREAM) ops = bytes_echoed / (uint64_t)opt_size; /* writes' worth echoed */
    uint64_t errors = err_connect + err_reset + err_eof + err_extra + err_other;
    int complete = measured && elapsed >= opt_duration * 0.999 && !timed_out_connecting;
    int ok = complete && total_mismatches == 0 && total_errors == 0;

    printf("{\"mode\":\"%s\",\"host\":\"%s\",\"port\":%d,\"conns\":%ld,\"size\":%ld,",
           opt_mode == M_PINGPONG ? "pingpong" : opt_mode == M_STREAM ? "stream" : "churn", opt_host,
           opt_port, opt_conns, opt_size);
    if (opt_mode == M_STREAM) printf("\"window\":%ld,", opt_window);
    if (opt_src_ips > 0) printf("\"src_ips\":%ld,", opt_src_ips);
    if (opt_mode == M_CHURN) printf("\"fast_connects\":%llu,", (unsigned long long)fast_connects);
    printf("\"warmup_s\":%.3f,\"duration_s\":%.6f,\"ops\":%llu,\"ops_per_s\":%.3f,", opt_warmup, elapsed,
           (unsigned long long)ops, elapsed > 0 ? ops / elapsed : 0.0);
    printf("\"bytes\":%llu,\"mb_per_s\":%.3f,", (unsigned long long)bytes_echoed,
           elapsed > 0 ? bytes_echoed / elapsed / 1e6 : 0.0);
    printf("\"latency_us\":{\"samples\":%u,\"mean\":%.2f,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
               "\"p999\":%.2f,\"max\":%.2f},",
               nsamples, mean, pct(0.5), pct(0.9), pct(0.99), pct(0.999), nsamples ? samples[nsamples - 1] : 0.0);
    printf("\"mismatches\":%llu,\"mismatch_bytes\":%llu,\"total_mismatches\":%llu,",
           (unsigned long long)mismatches, (unsigned long long)mismatch_bytes,
           (unsigned long long)total_mismatches);
    printf("\"errors\":%llu,\"error_detail\":{\"connect\":%llu,\"reset\":%llu,\"eof\":%llu,\"extra\":%llu,"
           "\"other\":%llu},\"total_errors\":%llu,",
           (unsigned long long)errors, (unsigned long long)err_connect, (unsigned long long)err_reset,
           (unsigned long long)err_eof, (unsigned long long)err_extra, (unsigned long long)err_other,
           (unsigned long long)total_errors);
    printf("\"connected_at_end\":%ld,\"connect_timeout\":%s,", connected_count,
           timed_out_connecting ? "true" : "false");
    if (opt_cpu_pid && cpu_srv0 >= 0 && cpu_srv1 >= 0)
        printf("\"server_cpu_s\":%.3f,\"server_minflt\":%llu,", cpu_srv1 - cpu_srv0, flt_srv1 - flt_srv0);
    else
        printf("\"server_cpu_s\":null,\"server_minflt\":null,");
    if (sys_ok && measured && phase == PH_MEASURE && sys_busy1 > 0)
        printf("\"system_cpu\":{\"ncpu\":%ld,\"busy_s\":%.3f,\"steal_s\":%.3f},", sysconf(_SC_NPROCESSORS_ONLN),
               sys_busy1 - sys_busy0, sys_steal1 - sys_steal0);
    else
        printf("\"system_cpu\":null,");
    printf("\"loadgen_cpu_s\":%.3f,\"complete\":%s,\"ok\":%s}\n", measured ? cpu_self1 - cpu_self0 : 0.0,
           complete ? "true" : "false", ok ? "true" : "false");
    fflush(stdout);
    return ok ? 0 : 1;
}
