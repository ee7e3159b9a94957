/**
 * @file plugin.h
 * @brief s2r plugin SDK: the only header a third-party plugin needs.
 *        Installed as <s2r/plugin.h>.
 *
 * A plugin is a shared object named s2r-<name>.so exporting exactly one
 * symbol, S2R_PLUGIN_ENTRY_NAME, which returns a pointer to a static
 * s2r_plugin descriptor. Fixed-width types only; json-c's json_object is the
 * one third-party type in the ABI (arguments borrowed, returned objects
 * transfer one reference).
 */
#ifndef S2R_PLUGIN_H
#define S2R_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define S2R_PLUGIN_ABI_MAJOR 1
#define S2R_PLUGIN_ABI_MINOR 0
#define S2R_PLUGIN_ABI \
    ((uint32_t)((S2R_PLUGIN_ABI_MAJOR << 16) | S2R_PLUGIN_ABI_MINOR))
#define S2R_PLUGIN_ENTRY_NAME "s2r_plugin_entry_v1"
#define S2R_ERROR_MSG_MAX 256

/** Status codes: 0 success, negative failure. */
typedef enum s2r_status {
    S2R_OK = 0,
    S2R_ERROR = -1,        /**< generic failure, see the message */
    S2R_EINVAL = -2,       /**< bad input or configuration */
    S2R_ENOMEM = -3,       /**< out of memory */
    S2R_ENOTFOUND = -4,    /**< no such thing */
    S2R_EAUTH = -5,        /**< authentication refused (HTTP 401) */
    S2R_ELIMITED = -6,     /**< rate limited (HTTP 429) */
    S2R_EUPSTREAM = -7,    /**< upstream (model, server) failed (HTTP 502) */
    S2R_ETIMEOUT = -8,     /**< deadline passed */
    S2R_EUNSUPPORTED = -9, /**< feature or model not supported */
    S2R_EABI = -10,        /**< plugin ABI mismatch (loader only) */
    S2R_ETOOBIG = -11      /**< input larger than allowed (HTTP 413) */
} s2r_status;

/** Caller-owned error: no allocation, safe on every thread. */
typedef struct s2r_error {
    int32_t code;        /**< s2r_status */
    int32_t http_status; /**< upstream HTTP status when relevant, else 0 */
    char message[S2R_ERROR_MSG_MAX]; /**< never holds a secret */
} s2r_error;

#ifdef __cplusplus
}
#endif
#endif /* S2R_PLUGIN_H */
