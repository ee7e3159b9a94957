/* config_path.h: which site file s2r reads, looked up the way Unix tools
 * look up theirs (used by the converter, check-config, migrate and init).
 *
 * Order, first match wins:
 *   1. --config FILE                      (S2R_CONFIG_OPTION)
 *   2. --no-config, or $S2R_CONFIG set but empty: the built-in defaults
 *                                         (S2R_CONFIG_DISABLED; the shared
 *                                         checkers run with S2R_CONFIG="")
 *   3. $S2R_CONFIG                        (S2R_CONFIG_ENV)
 *   4. ./s2r.ini                          (S2R_CONFIG_CWD)
 *   5. $XDG_CONFIG_HOME/s2r/s2r.ini, ~/.config/s2r/s2r.ini when
 *      XDG_CONFIG_HOME is unset, empty or relative, per the XDG Base
 *      Directory Specification           (S2R_CONFIG_USER)
 *   6. /etc/s2r/s2r.ini                   (S2R_CONFIG_SYSTEM)
 *   7. the built-in defaults              (S2R_CONFIG_NONE)
 * A file named by 1 or 3 must exist (the loader says so when it does not);
 * 4 to 6 count when a file of that name exists, readable or not (an
 * unreadable one is an error, not a silent skip).
 */
#ifndef S2R_APPS_CONFIG_PATH_H
#define S2R_APPS_CONFIG_PATH_H

#include <stdbool.h>

typedef enum s2r_config_origin {
    S2R_CONFIG_NONE = 0,     /**< nothing found: built-in defaults */
    S2R_CONFIG_DISABLED = 1, /**< --no-config / S2R_CONFIG="" */
    S2R_CONFIG_OPTION = 2,   /**< --config FILE */
    S2R_CONFIG_ENV = 3,      /**< $S2R_CONFIG */
    S2R_CONFIG_CWD = 4,      /**< ./s2r.ini */
    S2R_CONFIG_USER = 5,     /**< $XDG_CONFIG_HOME/s2r/s2r.ini */
    S2R_CONFIG_SYSTEM = 6    /**< /etc/s2r/s2r.ini */
} s2r_config_origin;

#define S2R_CONFIG_SYSTEM_FILE "/etc/s2r/s2r.ini"

typedef struct s2r_config_choice {
    char *path;               /**< malloc'd file to read, NULL for defaults */
    s2r_config_origin origin;
} s2r_config_choice;

/**
 * Look the site file up (order above). @p option is --config's value or
 * NULL; @p no_config is --no-config. Fills @p out (free with
 * s2r_config_choice_free()). Returns 0, or ENOMEM.
 */
int s2r_config_path_find(s2r_config_choice *out, const char *option,
                         bool no_config);
void s2r_config_choice_free(s2r_config_choice *c);

/** True when the user named the file (--config or $S2R_CONFIG) or turned
 *  the lookup off; false for the files found by looking. */
bool s2r_config_origin_explicit(s2r_config_origin o);

/** Where the choice came from, for messages: "--config", "$S2R_CONFIG",
 *  "./s2r.ini", ... "built-in defaults". Static text. */
const char *s2r_config_origin_text(s2r_config_origin o);

/**
 * The user's site file: $XDG_CONFIG_HOME/s2r/s2r.ini, else
 * $HOME/.config/s2r/s2r.ini (HOME from the password database when unset).
 * Returns malloc'd text, or NULL (errno ENOMEM, or ENOENT with no home).
 */
char *s2r_config_user_file(void);

#endif
