/* server_settings.c: the [server] keys of `s2r serve` and the listen
 * address (see server.h). */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int s2r_server_split_listen(const char *listen, char *host, size_t hcap,
                            char *port, size_t pcap)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return -1;
        if ((size_t)(close - listen - 1) >= hcap)
            return -1;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= hcap)
            return -1;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        if (strchr(host, ':'))
            return -1; /* bare IPv6 needs brackets */
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) >= pcap || strspn(p, "0123456789") != strlen(p))
        return -1;
    snprintf(port, pcap, "%s", p);
    return atoi(port) <= 65535 ? 0 : -1;
}

/* ------------------------------------------------------------------ */

static const s2r_option server_options[] = {
    {"listen", S2R_OPT_STRING, 0, "127.0.0.1:8080", 0, 0, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, listen),
     "Address and port to listen on (ADDR:PORT, [V6ADDR]:PORT); --listen "
     "wins."},
    {"threads", S2R_OPT_INT, 0, "0", 0, 1024, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, threads),
     "Worker threads; 0: one per CPU; --threads wins."},
    {"connection_timeout", S2R_OPT_DURATION, 0, "30s", 1000, 3600000, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, connection_timeout_ms),
     "Idle or slow connections are closed after this long."},
    {"max_connections", S2R_OPT_INT, 0, "1024", 1, 1000000, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, max_connections),
     "Open connections at most; more are answered 503 and closed."},
    {"drain_timeout", S2R_OPT_DURATION, 0, "10s", 0, 600000, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, drain_timeout_ms),
     "On SIGTERM, how long requests in flight may take to finish."},
    {"receive_timeout", S2R_OPT_DURATION, 0, "10s", 1000, 3600000, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, receive_timeout_ms),
     "A request must arrive whole (headers and body) within this time of "
     "its first byte, however slowly its bytes trickle; else 408 and "
     "close."},
    {"max_connections_per_client", S2R_OPT_INT, 0, "64", 0, 1000000, NULL,
     S2R_OPT_OFFSET(s2r_server_settings, max_connections_per_client),
     "Open connections at most from one client address (IPv6: one /64); "
     "more are answered 503 and closed; 0: no cap."},
    S2R_OPTION_END};

const s2r_option *s2r_server_option_table(void)
{
    return server_options;
}

int s2r_server_check_listen(const char *listen, char *msg, size_t cap)
{
    char host[256], port[8];
    if (listen && s2r_server_split_listen(listen, host, sizeof(host), port,
                                          sizeof(port)) == 0)
        return S2R_OK;
    snprintf(msg, cap,
             "%s: ADDR:PORT expected, port 0 to 65535 (e.g. "
             "127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)",
             listen ? listen : "(none)");
    return S2R_EINVAL;
}

static int known_key(const char *key)
{
    return s2r_options_find(server_options, key) ||
           s2r_options_find(s2r_handler_option_table(), key);
}

int s2r_server_settings_read(s2r_server_settings *out,
                             s2r_binding **binding_out, const s2r_ini *ini,
                             s2r_diags *diags)
{
    *binding_out = NULL;
    memset(out, 0, sizeof(*out));
    const s2r_ini_section *sec =
        ini ? s2r_ini_section_find(ini, "server") : NULL;
    const char *file = ini ? ini->path : NULL;
    /* unknown keys are reported here with every valid key of [server];
     * the table pass skips them and the handler's keys */
    const s2r_option *h = s2r_handler_option_table();
    size_t nh = 0;
    while (h[nh].name)
        nh++;
    const char **skip = calloc(nh + (sec ? sec->n : 0) + 1, sizeof(*skip));
    if (!skip)
        return S2R_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nh; i++)
        skip[k++] = h[i].name;
    int bad = 0;
    for (size_t i = 0; sec && i < sec->n; i++) {
        const s2r_ini_entry *e = &sec->v[i];
        if (known_key(e->key))
            continue;
        skip[k++] = e->key;
        char keys[600];
        size_t off = 0;
        keys[0] = '\0';
        const s2r_option *tabs[] = {server_options, h};
        for (size_t t = 0; t < 2; t++)
            for (size_t j = 0; tabs[t][j].name && off < sizeof(keys); j++)
                off += (size_t)snprintf(keys + off, sizeof(keys) - off,
                                        "%s%s", off ? ", " : "",
                                        tabs[t][j].name);
        s2r_diags_add(diags, S2R_SEV_ERROR, file, e->line, e->key,
                      "[server] %s: unknown key; valid keys: %s", e->key,
                      keys);
        bad = 1;
    }
    const s2r_ini_entry *le = sec ? s2r_ini_entry_find(sec, "listen") : NULL;
    char why[300];
    if (le && s2r_server_check_listen(le->value, why, sizeof(why)) != S2R_OK) {
        s2r_diags_add(diags, S2R_SEV_ERROR, file, le->line, "listen",
                      "[server] listen: %s", why);
        bad = 1;
    }
    s2r_binding *b = NULL;
    int rc = s2r_options_apply(server_options, sizeof(s2r_server_settings),
                               sec, file, "[server]", skip, diags, &b);
    free(skip);
    if (rc != S2R_OK)
        return rc;
    memcpy(out, b->config, sizeof(*out));
    if (bad) {
        s2r_binding_free(b);
        memset(out, 0, sizeof(*out));
        return S2R_EINVAL;
    }
    *binding_out = b;
    return S2R_OK;
}

const char **s2r_server_skip_keys(const s2r_ini *ini)
{
    const s2r_ini_section *sec =
        ini ? s2r_ini_section_find(ini, "server") : NULL;
    size_t n = sizeof(server_options) / sizeof(server_options[0]);
    size_t extra = sec ? sec->n : 0;
    const char **keys = calloc(n + extra + 1, sizeof(*keys));
    if (!keys)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; server_options[i].name; i++)
        keys[k++] = server_options[i].name;
    for (size_t i = 0; i < extra; i++) {
        const char *key = sec->v[i].key;
        if (!known_key(key))
            keys[k++] = key; /* unknown: reported by the transport pass */
    }
    keys[k] = NULL;
    return keys;
}
