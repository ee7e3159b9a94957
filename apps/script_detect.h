/* script_detect.h: is a file a SLURM batch script? As sbatch(1) sees it:
 * a "#SBATCH" (or legacy "#SLURM") line in column 0 among the comment and
 * blank lines before the first command (sbatch's _opt_batch_script() scan),
 * whatever the file's name. Whether sbatch then accepts the script (a "#!"
 * first line, no DOS line breaks, no NUL byte) is the converter's to say. */
#ifndef S2R_APPS_SCRIPT_DETECT_H
#define S2R_APPS_SCRIPT_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/** Bytes of a file's head that detection reads: the directive block of
 *  any real script fits. */
#define S2R_DETECT_HEAD (64u * 1024u)

/** True when @p head (@p n bytes, the start of a file) has a directive
 *  line before its first command. */
bool s2r_script_has_directives(const char *head, size_t n);

/** True when @p head holds a NUL byte (as grep and git tell binary files
 *  from text). */
bool s2r_bytes_look_binary(const char *head, size_t n);

#endif
