/* guard_patterns.c: what a model's text may not contain: dangerous
 * patterns (POSIX ERE, matched case-insensitively with regcomp(3); one
 * line of defence, see guard.c for the other) and the shape of an OCI
 * image reference (the distribution/reference grammar). See model.h. */
#include "guard.h"

#include <pthread.h>
#include <regex.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Dangerous patterns                                                  */
/* ------------------------------------------------------------------ */

typedef struct danger {
    const char *re; /* POSIX ERE, matched case-insensitively */
    const char *what;
} danger;

/* A word boundary in front of a command name. */
#define B "(^|[^[:alnum:]_.-])"
/* Interpreters a download must not be piped or fed into. */
#define INTERP "((ba|da|z|k|c|tc|fi|a)?sh|python[0-9.]*|perl|ruby|node|php|source)"

static const danger dangers[] = {
    {B "rm[[:space:]]+(-[^[:space:]]*[[:space:]]+)*[\"']?"
       "(/|/\\*|/[^/[:space:];&|\"']+/?\\*?|~|~/|~/\\*|\\$HOME/?\\*?|"
       "\\$\\{HOME\\}/?\\*?|\\.\\./?\\*?)[\"']?([[:space:];&|)]|$)",
     "deletes /, a top-level directory or the home directory"},
    {"--no-preserve-root", "deletes / (--no-preserve-root)"},
    {B "(curl|wget|fetch)([[:space:]][^|;&]*)?\\|[[:space:]]*(sudo[[:space:]]+)?"
       "(env[[:space:]]+)?([[:alnum:]_/.-]*/)?" INTERP "([[:space:];&|)]|$)",
     "pipes a download into an interpreter"},
    {"(\\$\\(|`|<\\(|>\\()[[:space:]]*(curl|wget|fetch)([[:space:]]|$)",
     "runs a download through command or process substitution"},
    {B "(curl|wget)[^\n]*(&&|;|\n)[[:space:]]*(sudo[[:space:]]+)?"
       "((ba|da|z)?sh|source|\\.|chmod[[:space:]]+[^[:space:]]*x)[[:space:]]",
     "downloads a file and runs it"},
    {"base64[[:space:]]+(-d|--decode|-D)[^;&]*\\|[[:space:]]*(sudo[[:space:]]+)?"
     INTERP "([[:space:];&|)]|$)",
     "decodes hidden code into an interpreter"},
    {B "(eval|exec)[[:space:]]+.*base64", "evaluates decoded code"},
    {"(exec|eval)[[:space:]]*\\([^)]*(urlopen|urllib|requests\\.get|"
     "http\\.client)",
     "evaluates code fetched over the network"},
    {"/dev/(tcp|udp)/", "opens a raw network socket from the shell"},
    {B "(nc|ncat|netcat)[[:space:]][^;&|]*-[[:alnum:]]*[ec]([[:space:]]|$)",
     "starts a reverse shell (nc -e)"},
    {B "socat[[:space:]][^;&|]*exec:", "starts a reverse shell (socat exec)"},
    {B "(mkfs(\\.[[:alnum:]]+)?|wipefs)([[:space:]]|$)", "formats a disk"},
    {B "dd[[:space:]][^;&|]*of=/dev/", "writes to a raw device"},
    {">[[:space:]]*/dev/(sd|hd|nvme|xvd|vd|mapper|disk)", "writes to a raw device"},
    {B "shred[[:space:]][^;&|]*/dev/", "wipes a device"},
    {":[[:space:]]*\\([[:space:]]*\\)[[:space:]]*\\{[^}]*:[[:space:]]*\\|"
     "[[:space:]]*:",
     "is a fork bomb"},
    {B "(chmod|chown|chgrp)[[:space:]]+(-[^[:space:]]*[[:space:]]+)*"
       "-[[:alpha:]]*R[^;&|]*[[:space:]][\"']?/[\"']?([[:space:];&|)]|$)",
     "changes permissions of / recursively"},
    {"(^|[;&|(`[:space:]])(sudo|su|doas)([[:space:]]|$)",
     "raises privileges (sudo/su)"},
    {"authorized_keys", "writes SSH authorized_keys"},
    {"/etc/(passwd|shadow|sudoers)", "touches /etc/passwd, shadow or sudoers"},
    {B "crontab([[:space:]]|$)", "installs a crontab"},
    {B "history[[:space:]]+-c|HISTFILE=/dev/null", "hides its traces"},
};
#undef B
#undef INTERP

#define N_DANGERS (sizeof(dangers) / sizeof(dangers[0]))

static regex_t danger_re[N_DANGERS];
static regex_t oci_re;
static int regex_ok;
static pthread_once_t regex_once = PTHREAD_ONCE_INIT;

/* OCI reference (distribution/reference grammar, POSIX ERE) */
#define DOMAIN_COMP "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
#define PATH_COMP "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
static const char oci_pattern[] =
    "^(" DOMAIN_COMP "(\\." DOMAIN_COMP ")*(:[0-9]+)?/)?"
    PATH_COMP "(/" PATH_COMP ")*"
    "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    "(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$";
#undef DOMAIN_COMP
#undef PATH_COMP

static void compile_all(void)
{
    int ok = 1;
    for (size_t i = 0; i < N_DANGERS; i++)
        if (regcomp(&danger_re[i], dangers[i].re,
                    REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            ok = 0;
    if (regcomp(&oci_re, oci_pattern, REG_EXTENDED | REG_NOSUB) != 0)
        ok = 0;
    regex_ok = ok;
}

static int regexes(void)
{
    pthread_once(&regex_once, compile_all);
    return regex_ok;
}

int s2r_guard__has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') ||
            *p == 0x7f)
            return 1;
    return 0;
}

const char *s2r_guard_unsafe(const char *text, const char *allowed)
{
    if (!text)
        return NULL;
    if (!regexes())
        return "cannot be checked (internal pattern error)";
    if (s2r_guard__has_control(text))
        return "contains control characters";
    for (size_t i = 0; i < N_DANGERS; i++) {
        if (regexec(&danger_re[i], text, 0, NULL, 0) != 0)
            continue;
        if (allowed && regexec(&danger_re[i], allowed, 0, NULL, 0) == 0)
            continue; /* the script itself does this: the user's choice */
        return dangers[i].what;
    }
    return NULL;
}

int s2r_guard_image_ok(const char *ref)
{
    if (!ref || !*ref || strlen(ref) > 255 || !regexes())
        return 0;
    return regexec(&oci_re, ref, 0, NULL, 0) == 0;
}
