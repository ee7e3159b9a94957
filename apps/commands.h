/* commands.h: the s2r subcommands, one file each under apps/. */
#ifndef S2R_APPS_COMMANDS_H
#define S2R_APPS_COMMANDS_H

/* Each returns the process exit status: 0 ok, 1 failure, 2 usage.
 * argv[0] is the subcommand name. */
int s2r_cmd_convert(int argc, char **argv);      /* s2r [opts] SCRIPT (s2r.c) */
int s2r_cmd_plugins(int argc, char **argv);      /* s2r plugins */
int s2r_cmd_help_plugin(int argc, char **argv);  /* s2r help PLUGIN */
int s2r_cmd_check_config(int argc, char **argv); /* s2r check-config */
int s2r_cmd_serve(int argc, char **argv);        /* s2r serve */
int s2r_cmd_lambda(int argc, char **argv);       /* s2r lambda */
int s2r_cmd_migrate(int argc, char **argv);      /* s2r migrate (in s2r) */
int s2r_cmd_init(int argc, char **argv);         /* s2r init (in s2r) */


#include <stdbool.h>
#include <stddef.h>

#include <s2r/s2r.h>

/* --submit-dir as an absolute path, "//", "/./" and "/../" folded without
 * touching the file system (it names a folder of the SLURM cluster, which
 * need not exist here; per sbatch(1), SLURM_SUBMIT_DIR is the folder sbatch
 * ran in). malloc'd; NULL with errno (EINVAL for ""). (s2r.c) */
char *s2r_submit_dir_path(const char *dir);

/* A symbol of libs2r-runtime.so, which the program loads on first use
 * (s2r.c); NULL when the library or the symbol is missing. */
void *s2r_runtime_symbol(const char *name);

/* The conversion of one script through the provider the site file names
 * (apps/cmd_provider.c, in libs2r-runtime.so); see s2r_provider_glue in
 * conversion.h. */
int s2r_cmd_convert_with_provider(const char *file, const char *buf,
                                  size_t len, const char *format,
                                  const char *config_path,
                                  const char *plugin_dir,
                                  const char *submit_dir, bool prompt_only,
                                  char **out, s2r_diags *diags);

#endif
