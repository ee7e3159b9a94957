/* test_plugin_wrongmajor.c: claims ABI 2.0. */
#include <s2r/plugin.h>

static int c(void **o, const s2r_host *h, const s2r_instance_ctx *x,
             const void *cfg, s2r_error *e)
{
    (void)h; (void)x; (void)cfg; (void)e;
    *o = NULL;
    return S2R_OK;
}
static void d(void *i) { (void)i; }
static int conv(void *i, const s2r_provider_request *r, json_object **a,
                s2r_error *e)
{
    (void)i; (void)r; (void)a; (void)e;
    return S2R_ERROR;
}
static const s2r_provider_ops ops = {sizeof(s2r_provider_ops), 0, conv};
static const s2r_plugin plugin = {
    .abi = S2R_PLUGIN_ABI,
    .struct_size = 16,
    .kind = S2R_KIND_PROVIDER,
    .name = "test-short",
    .version = "2.0.0",
    .create = c, .destroy = d, .ops = &ops};
S2R_PLUGIN_DECLARE(plugin)
