/* test_plugin_nosym.c: a shared object without the entry symbol. */
#include <s2r/plugin.h>

S2R_PLUGIN_EXPORT int s2r_plugin_entry_v0(void);
S2R_PLUGIN_EXPORT int s2r_plugin_entry_v0(void)
{
    return 0;
}
