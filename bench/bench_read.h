/* bench_read.h: how bench_convert and its floor, convert_floor, read a
 * script file and write an output (the same system calls on both sides of
 * a ratio). */
#ifndef S2R_BENCH_READ_H
#define S2R_BENCH_READ_H

#include <fcntl.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* The largest script read, in bytes. */
#define MAX_FILE (1 << 20)

/* The whole of @p path into @p buf (room for MAX_FILE bytes); its length,
 * 0 when it cannot be read. */
static inline size_t bench_read_into(const char *path, char *buf)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < MAX_FILE && (r = read(fd, buf + n, MAX_FILE - n)) > 0)
        n += (size_t)r;
    close(fd);
    return n;
}

/* Writes @p len bytes of @p buf to @p fd with write(2), as `s2r job.sh`
 * writes its output to stdout; a short write goes on, an error stops. */
static inline void bench_write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

#endif
