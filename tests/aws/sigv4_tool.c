/* sigv4_tool.c: sign one HTTP request with the host table's aws_sigv4_sign
 * slot (core/plugin/host_sigv4.c over core/aws) and print the headers it adds, one "Name: value"
 * per line. Test helper for test_sigv4_botocore.py, which checks them with
 * botocore.
 *
 *   aws_sigv4_tool --region R --service S --now UNIX_SECONDS
 *                  --method M --url URL [--header 'Name: value']...
 *                  [--body-file FILE] [--access-key AK --secret-key SK
 *                  [--token T]]
 *
 * Without --access-key the signer takes the credential chain (environment,
 * shared credentials file). Exit status 0, or 1 with the error on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/host.h"

#define MAX_HDR 32

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"region", required_argument, NULL, 'r'},
        {"service", required_argument, NULL, 's'},
        {"now", required_argument, NULL, 'n'},
        {"method", required_argument, NULL, 'm'},
        {"url", required_argument, NULL, 'u'},
        {"header", required_argument, NULL, 'H'},
        {"body-file", required_argument, NULL, 'b'},
        {"access-key", required_argument, NULL, 'a'},
        {"secret-key", required_argument, NULL, 'k'},
        {"token", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    s2r_sigv4_params p = {sizeof(p), 0, NULL, NULL, NULL, NULL, NULL, 0};
    s2r_http_request req = {0};
    req.struct_size = sizeof(req);
    s2r_header hdr[MAX_HDR];
    uint32_t nh = 0;
    char *body = NULL;
    size_t body_len = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': p.region = optarg; break;
        case 's': p.service = optarg; break;
        case 'n': p.now_unix_s = strtoll(optarg, NULL, 10); break;
        case 'm': req.method = optarg; break;
        case 'u': req.url = optarg; break;
        case 'a': p.access_key_id = optarg; break;
        case 'k': p.secret_access_key = optarg; break;
        case 't': p.session_token = optarg; break;
        case 'H': {
            char *colon = strchr(optarg, ':');
            if (!colon || nh == MAX_HDR) {
                fprintf(stderr, "bad --header %s\n", optarg);
                return 2;
            }
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            hdr[nh].name = optarg;
            hdr[nh].value = v;
            nh++;
            break;
        }
        case 'b': {
            FILE *f = fopen(optarg, "rb");
            if (!f) {
                perror(optarg);
                return 2;
            }
            size_t cap = 1 << 16;
            body = malloc(cap);
            size_t r;
            while (body && (r = fread(body + body_len, 1, cap - body_len, f)) > 0) {
                body_len += r;
                if (body_len == cap) {
                    char *nb = realloc(body, cap *= 2);
                    if (!nb) {
                        free(body);
                        body = NULL;
                    }
                    body = nb;
                }
            }
            fclose(f);
            if (!body)
                return 2;
            break;
        }
        default:
            return 2;
        }
    }
    req.headers = hdr;
    req.n_headers = nh;
    req.body = body;
    req.body_len = body_len;
    s2r_header_out out[8];
    uint32_t n = 0;
    s2r_error err = {0};
    int rc = s2r_host_table()->aws_sigv4_sign(NULL, &p, &req, out, 8, &n,
                                              &err);
    if (rc != S2R_OK) {
        fprintf(stderr, "aws_sigv4_tool: %s\n", err.message);
        free(body);
        return 1;
    }
    for (uint32_t i = 0; i < n; i++)
        printf("%s: %s\n", out[i].name, out[i].value);
    free(body);
    return 0;
}
