/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "util.h"

int free_and_strdup(char **dst, const char *src) {
        char *n = NULL;

        if (src) {
                n = strdup(src);
                if (!n)
                        return -ENOMEM;
        }
        free(*dst);
        *dst = n;
        return 0;
}

int strv_push(strv *s, const char *str) {
        char **nv = realloc(s->v, (s->n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        s->v = nv;
        s->v[s->n] = strdup(str);
        if (!s->v[s->n]) {
                s->v[s->n] = NULL;
                return -ENOMEM;
        }
        s->n++;
        s->v[s->n] = NULL;
        return 0;
}

int strv_pushv(strv *s, const char *fmt, va_list ap) {
        char buf[4096];

        vsnprintf(buf, sizeof buf, fmt, ap);
        return strv_push(s, buf);
}

int strv_pushf(strv *s, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_pushv(s, fmt, ap);
        va_end(ap);
        return r;
}

uint64_t clock_usec(clockid_t id) {
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void strv_clear(strv *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        s->v = NULL;
        s->n = 0;
}

bool strv_contains(const strv *s, const char *str) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i], str))
                        return true;
        return false;
}

int strv_copy(strv *dst, const strv *src) {
        strv n = {};

        for (size_t i = 0; i < src->n; i++) {
                int r = strv_push(&n, src->v[i]);
                if (r < 0) {
                        strv_clear(&n);
                        return r;
                }
        }
        strv_clear(dst);
        *dst = n;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno == ERANGE || v > UINT_MAX)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

char *path_join(const char *a, const char *b) {
        char *s;

        a = a ? a : "";
        while (*b == '/' && *a && a[strlen(a) - 1] == '/')
                b++;
        if (asprintf(&s, "%s%s%s", a, (*a && a[strlen(a) - 1] != '/' && *b != '/') ? "/" : "", b) < 0)
                return NULL;
        return s;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                if (len == cap) {
                        if (cap > max)
                                return -EFBIG;
                        size_t ncap = cap ? cap * 2 : 4096;
                        if (ncap > max + 1)
                                ncap = max + 1;
                        char *n = realloc(buf, ncap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static bool printable(unsigned char c) {
        return c >= 0x20 && c < 0x7f;
}

char *str_escape(const char *s, char *out, size_t size) {
        size_t n = 0;

        if (size == 0)
                return out;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                size_t need = printable(c) ? 1 : 4;
                if (n + need >= size)
                        break;
                if (printable(c))
                        out[n++] = (char) c;
                else
                        n += (size_t) snprintf(out + n, size - n, "\\x%02x", c);
        }
        out[n] = 0;
        return out;
}

char *str_escape_dup(const char *s) {
        size_t size = 1;
        char *out;

        for (const char *p = s; *p; p++)
                size += printable((unsigned char) *p) ? 1 : 4;
        out = malloc(size);
        return out ? str_escape(s, out, size) : NULL;
}

int pread_exact(int fd, void *buf, size_t size, uint64_t offset) {
        for (size_t done = 0; done < size;) {
                ssize_t n = pread(fd, (uint8_t *) buf + done, size - done, (off_t) (offset + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                done += (size_t) n;
        }
        return 0;
}
