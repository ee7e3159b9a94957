/* request_site.h: the site configuration one request converts with
 * (request_site.c; private to core/server). */
#ifndef S2R_SERVER_REQUEST_SITE_H
#define S2R_SERVER_REQUEST_SITE_H

#include <s2r/plugin.h>
#include <s2r/s2r.h>

/** The server's configuration, shallow, with what the request says of
 *  the script's submission; owns only the strings it adds. */
typedef struct s2r_request_site {
    s2r_config cfg;   /**< borrow it for one conversion */
    char *submit_dir; /**< owned copies of the request's values */
    char *user;
    char *groups;
} s2r_request_site;

/**
 * Fill @p rs from @p base and the query parameters of a request (@p param
 * with @p payload, NULL: none): `submit_dir` (an absolute path,
 * SLURM_SUBMIT_DIR), and the script owner's `user`, `uid`, `gid` and
 * `groups` (comma-separated group ids) where the site file ([site] user,
 * uid, gid, groups) sets none. A server never falls back on its own
 * user: without either, the pods run as the image's user.
 * @return S2R_OK; S2R_EINVAL with *@p bad naming the parameter that does
 *         not parse; S2R_ENOMEM. Free with s2r_request_site_free() in all
 *         cases.
 */
int s2r_request_site_fill(s2r_request_site *rs, const s2r_config *base,
                          s2r_header_lookup_fn param, void *payload,
                          const char **bad);
void s2r_request_site_free(s2r_request_site *rs);

#endif
