/* skeleton.c: a minimal s2r provider plugin. Copy this directory, rename
 * "skeleton", and replace convert() with your backend.
 *
 * It proposes an image for scripts that name no container: the core takes
 * the rules conversion, applies this proposal and checks it against the
 * script (resources are never changed by a provider). */
#include <s2r/plugin.h>

#include <string.h>

/* The options, bound by the core into this struct (see the table). */
struct skeleton_conf {
    const char *image;
    const char *api_key;  /* secret: resolved from env:NAME / file:PATH */
    int64_t timeout_ms;
};

static const s2r_option skeleton_options[] = {
    {"image", S2R_OPT_STRING, 0, "docker.io/library/python:3.12", 0, 0, NULL,
     S2R_OPT_OFFSET(struct skeleton_conf, image),
     "Image proposed for scripts that name no container."},
    {"api_key", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(struct skeleton_conf, api_key),
     "Key of your backend (env:NAME or file:PATH)."},
    {"timeout", S2R_OPT_DURATION, 0, "10s", 100, 600000, NULL,
     S2R_OPT_OFFSET(struct skeleton_conf, timeout_ms),
     "How long a conversion may take."},
    S2R_OPTION_END};

/* One instance per [provider.<id>] section naming this plugin. */
struct skeleton {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const struct skeleton_conf *conf;
};

static int skeleton_create(void **instance_out, const s2r_host *host,
                           const s2r_instance_ctx *ctx, const void *config,
                           s2r_error *err)
{
    struct skeleton *s = host->alloc(sizeof(*s));
    if (!s)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    s->host = host;
    s->ctx = ctx;
    s->conf = config;
    S2R_LOG_I(host, ctx, "ready, proposing %s", s->conf->image);
    *instance_out = s;
    return S2R_OK;
}

static void skeleton_destroy(void *instance)
{
    struct skeleton *s = instance;
    if (s)
        s->host->free(s);
}

static int skeleton_convert(void *instance, const s2r_provider_request *req,
                            json_object **answer_out, s2r_error *err)
{
    struct skeleton *s = instance;
    if (strcmp(req->format, "cli") && strcmp(req->format, "yaml") &&
        strcmp(req->format, "json"))
        return s->host->error_set(s->ctx, err, S2R_EUNSUPPORTED,
                                  "format %s", req->format);
    /* a proposal: {"image": ..., "notes": [...]} (see s2r_provider_ops) */
    json_object *answer = json_object_new_object();
    json_object *notes = json_object_new_array();
    if (!answer || !notes) {
        json_object_put(answer);
        json_object_put(notes);
        return s->host->error_set(s->ctx, err, S2R_ENOMEM, "out of memory");
    }
    json_object_object_add(answer, "image",
                           json_object_new_string(s->conf->image));
    json_object_array_add(notes, json_object_new_string(
                                     "skeleton: proposed the image"));
    json_object_object_add(answer, "notes", notes);
    *answer_out = answer;
    return S2R_OK;
}

static const s2r_provider_ops skeleton_ops = {
    .struct_size = sizeof(s2r_provider_ops),
    .convert = skeleton_convert,
};

static const s2r_plugin skeleton_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_PROVIDER,
    .flags = S2R_PLUGIN_F_THREADSAFE, /* the instance is read-only */
    .name = "skeleton",               /* the file is s2r-skeleton.so */
    .version = "1.0.0",
    .description = "Example provider: proposes a default image.",
    .options = skeleton_options,
    .config_size = sizeof(struct skeleton_conf),
    .create = skeleton_create,
    .destroy = skeleton_destroy,
    .ops = &skeleton_ops,
};

S2R_PLUGIN_DECLARE(skeleton_plugin)
