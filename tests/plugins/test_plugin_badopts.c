/* test_plugin_badopts.c: an option table with a duplicate name. */
#include <s2r/plugin.h>

struct conf { int64_t a; };
static const s2r_option opts[] = {
    {"level", S2R_OPT_INT, 0, "1", 0, 0, NULL, S2R_OPT_OFFSET(struct conf, a),
     "A level."},
    {"level", S2R_OPT_INT, 0, "2", 0, 0, NULL, S2R_OPT_NO_BIND, "Again."},
    S2R_OPTION_END};
static int c(void **o, const s2r_host *h, const s2r_instance_ctx *x,
             const void *cfg, s2r_error *e)
{
    (void)h; (void)x; (void)cfg; (void)e;
    *o = NULL;
    return S2R_OK;
}
static void d(void *i) { (void)i; }
static int check(void *i, const char *k, int64_t now,
                 s2r_ratelimit_result *out, s2r_error *e)
{
    (void)i; (void)k; (void)now; (void)e;
    out->allowed = 1;
    return S2R_OK;
}
static const s2r_ratelimit_ops ops = {sizeof(s2r_ratelimit_ops), 0, check};
static const s2r_plugin plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_RATELIMIT,
    .name = "test-badopts",
    .version = "0.1",
    .options = opts,
    .config_size = sizeof(struct conf),
    .create = c, .destroy = d, .ops = &ops};
S2R_PLUGIN_DECLARE(plugin)
