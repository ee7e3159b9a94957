/* fuzz_handler.h: the request handler the server and Lambda harnesses
 * drive in process (no socket): one registry with the real auth-hmac and
 * ratelimit-sqlite plugins (built with the harnesses, loaded from
 * S2R_FUZZ_PLUGIN_DIR), and two handlers on it:
 *
 *   open  auth = none, ratelimit = none: every request reaches the
 *         pipeline (parse -> rules -> emit)
 *   full  auth = hmac ([auth.hmac], secret from $S2R_FUZZ_SECRET, replay
 *         check off so that one signed input may run many times) and
 *         ratelimit = daily ([ratelimit.daily], a SQLite file in a
 *         private temporary folder, a limit no run reaches)
 *
 * Both log every request to a sink that checks the line is one JSON
 * object. Built once per process (LLVMFuzzerInitialize), removed at exit.
 */
#ifndef S2R_FUZZ_HANDLER_H
#define S2R_FUZZ_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "server/handler.h"

/** The secret [auth.hmac] verifies with (for the harness's own
 *  signatures). */
#define FUZZ_HMAC_SECRET "fuzz-secret-5b1f"

/** The handlers; aborts when they cannot be built. */
s2r_handler *fuzz_handler_open(void);
s2r_handler *fuzz_handler_full(void);

/** Check an answer: a status from 200 to 599, a JSON object body, at most
 *  S2R_HANDLER_MAX_HEADERS headers, each NUL-terminated. Aborts on a
 *  violation. */
void fuzz_check_response(const s2r_handler_response *r);

#endif
