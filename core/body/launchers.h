/* launchers.h: the launcher grammars of body.h over lexed words (private
 * to core/body; launchers.c). */
#ifndef S2R_LAUNCHERS_H
#define S2R_LAUNCHERS_H

#include <stdbool.h>
#include <stddef.h>

#include "body.h"
#include "shell/shell.h"

/** Index after the option at word @p i with its values; @p i when word
 *  @p i is no option. "--" is consumed. */
size_t s2r_launch__skip_option(const s2r_launch_grammar *g, const sh_word *w,
                               size_t n, size_t i);
/** Index of the first word after all options from @p i ("--" ends them). */
size_t s2r_launch__skip_options(const s2r_launch_grammar *g, const sh_word *w,
                                size_t n, size_t i);
/** The role of the option at word @p i (S2R_LR_NONE for none). */
s2r_launch_role s2r_launch__role(const s2r_launch_grammar *g,
                                 const sh_word *w, size_t n, size_t i);

#endif
