/* serve_floor.c: the floor of the `s2r serve` benchmarks: a bare
 * libmicrohttpd server that answers every request with the same bytes
 * s2r would send (body and headers given on the command line), and does
 * nothing else. It reads each request body to its end, as s2r does.
 *
 *   serve_floor --body FILE [--header 'Name: value']... [--status N]
 *               [--listen ADDR:PORT] [--threads N]
 *               [--mode poll|epoll|select|thread]
 *
 * Threads are set up as in `s2r serve`: one acceptor thread deals the
 * connections round-robin to N libmicrohttpd daemons (MHD_add_connection),
 * each running its own event loop of the given mode (--mode thread: one
 * daemon, a thread per connection). With --mode epoll it shows
 * libmicrohttpd 0.9.75's own stall (its epoll loop waits again after a
 * batch of exactly 128 events). Prints "port N" on standard output once
 * it listens; runs until SIGTERM or SIGINT.
 *
 * Not a test and not part of s2r: bench/bench-serve.py runs it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEADERS 16
#define MAX_DAEMONS 64

typedef struct floor_opts {
    const char *body_path;
    const char *headers[MAX_HEADERS];
    int n_headers;
    unsigned status;
    const char *host;
    unsigned port;
    unsigned threads;
    const char *mode;
} floor_opts;

static struct MHD_Response *g_resp;
static unsigned g_status = 200;
static struct MHD_Daemon *g_d[MAX_DAEMONS];
static unsigned g_n;
static int g_listen = -1;

/* Read the request body to its end (dropping it), then answer. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data;
    static int started;
    if (*con_cls == NULL) {
        *con_cls = &started;
        return MHD_YES;
    }
    if (*data_size) {
        *data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, g_status, g_resp);
}

static void *acceptor(void *arg)
{
    (void)arg;
    unsigned next = 0;
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = accept4(g_listen, (struct sockaddr *)&sa, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EBADF || errno == EINVAL)
                return NULL;
            continue;
        }
        MHD_add_connection(g_d[next], fd, (struct sockaddr *)&sa, len);
        next = (next + 1) % g_n;
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 65536)))
            break;
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int parse_args(int argc, char **argv, floor_opts *o)
{
    o->host = "127.0.0.1";
    o->threads = 2;
    o->mode = "poll";
    o->status = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--body") == 0)
            o->body_path = v;
        else if (strcmp(k, "--header") == 0 && o->n_headers < MAX_HEADERS)
            o->headers[o->n_headers++] = v;
        else if (strcmp(k, "--status") == 0)
            o->status = (unsigned)atoi(v);
        else if (strcmp(k, "--threads") == 0)
            o->threads = (unsigned)atoi(v);
        else if (strcmp(k, "--mode") == 0)
            o->mode = v;
        else if (strcmp(k, "--port") == 0)
            o->port = (unsigned)atoi(v);
        else
            return -1;
    }
    if (argc % 2 == 0 || !o->body_path || o->threads < 1 ||
        o->threads > MAX_DAEMONS)
        return -1;
    return 0;
}

static struct MHD_Response *make_response(const floor_opts *o)
{
    size_t len = 0;
    char *body = read_file(o->body_path, &len);
    if (!body)
        return NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, MHD_RESPMEM_MUST_FREE);
    for (int i = 0; r && i < o->n_headers; i++) {
        char name[128];
        const char *colon = strchr(o->headers[i], ':');
        if (!colon || (size_t)(colon - o->headers[i]) >= sizeof(name))
            continue;
        memcpy(name, o->headers[i], (size_t)(colon - o->headers[i]));
        name[colon - o->headers[i]] = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        MHD_add_response_header(r, name, value);
    }
    return r;
}

static unsigned mode_flag(const char *mode)
{
    if (strcmp(mode, "epoll") == 0)
        return MHD_USE_EPOLL;
    if (strcmp(mode, "poll") == 0)
        return MHD_USE_POLL;
    if (strcmp(mode, "thread") == 0)
        return MHD_USE_THREAD_PER_CONNECTION;
    return 0; /* select */
}

static int open_listener(const floor_opts *o)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)o->port);
    inet_pton(AF_INET, o->host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fd, 4096) != 0)
        return -1;
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    printf("port %u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

int main(int argc, char **argv)
{
    floor_opts o;
    memset(&o, 0, sizeof(o));
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: serve_floor --body FILE [--header 'N: v']... "
                        "[--status N] [--port N] [--threads N] "
                        "[--mode poll|epoll|select|thread]\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_status = o.status;
    if (!(g_resp = make_response(&o))) {
        fprintf(stderr, "serve_floor: cannot read %s\n", o.body_path);
        return 1;
    }
    unsigned flag = mode_flag(o.mode);
    g_n = flag == MHD_USE_THREAD_PER_CONNECTION ? 1 : o.threads;
    for (unsigned i = 0; i < g_n; i++) {
        g_d[i] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | flag | MHD_USE_ITC |
                MHD_USE_NO_LISTEN_SOCKET,
            0, NULL, NULL, on_request, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
            30u, MHD_OPTION_CONNECTION_LIMIT, 100000u, MHD_OPTION_END);
        if (!g_d[i]) {
            fprintf(stderr, "serve_floor: cannot start daemon (%s)\n", o.mode);
            return 1;
        }
    }
    if ((g_listen = open_listener(&o)) < 0) {
        perror("serve_floor: listen");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, acceptor, NULL);
    int sig = 0;
    sigwait(&sigs, &sig);
    shutdown(g_listen, SHUT_RDWR);
    close(g_listen);
    pthread_join(t, NULL);
    for (unsigned i = 0; i < g_n; i++)
        MHD_stop_daemon(g_d[i]);
    MHD_destroy_response(g_resp);
    return 0;
}
