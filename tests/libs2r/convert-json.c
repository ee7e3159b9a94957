/* convert-json.c: convert-json FILE [FORMAT] prints the document of
 * s2r_convert_json() for FILE; exit status 0 converted, 1 not. A C program
 * of the kind libs2r.so is for, built against the installed headers. */
#include <s2r/s2r.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: convert-json FILE [cli|yaml|json]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static char script[S2R_MAX_SCRIPT_BYTES];
    size_t len = fread(script, 1, sizeof(script), f);
    fclose(f);
    s2r_convert_request req = {.struct_size = sizeof(req),
                               .file = argv[1],
                               .script = script,
                               .script_len = len,
                               .format = argc > 2 ? argv[2] : NULL};
    char *doc = NULL;
    int rc = s2r_convert_json(&doc, &req);
    if (!doc) {
        fprintf(stderr, "convert-json: out of memory\n");
        return 1;
    }
    puts(doc);
    s2r_free(doc);
    return rc == S2R_OK ? 0 : 1;
}
