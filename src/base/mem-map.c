/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem-map.h"
#include "util.h"

#define MAX_NAMES 256

static void file_closep(FILE **f) {
        if (*f)
                fclose(*f);
}

/* "7f1c2a400000-7f1c2a428000 r--p ...": a mapping's header; the field
 * lines ("Rss:    12 kB") start with a capitalised key. */
static bool is_header(const char *line) {
        size_t token = strcspn(line, " ");
        const char *dash = memchr(line, '-', token);
        return (isdigit((unsigned char) line[0]) || (line[0] >= 'a' && line[0] <= 'f')) && dash &&
               !memchr(line, ':', token);
}

static int by_rss(const void *a, const void *b) {
        const struct mem_mapping *x = a, *y = b;
        return x->rss_kb < y->rss_kb ? 1 : x->rss_kb > y->rss_kb ? -1 : strcmp(x->name, y->name);
}

/* The name a mapping's header line ends with: a path's base name, or the
 * kernel's [heap]-style name, or "[anon]". */
static void mapping_name(const char *line, char *out, size_t size) {
        const char *p = line;

        /* address perms offset dev inode [name] */
        for (int field = 0; field < 5 && p; field++) {
                p = strchr(p, ' ');
                p = p ? p + strspn(p, " ") : NULL;
        }
        if (!p || !*p || *p == '\n') {
                snprintf(out, size, "[anon]");
                return;
        }
        const char *slash = *p == '/' ? strrchr(p, '/') : NULL;
        snprintf(out, size, "%.*s", (int) strcspn(slash ? slash + 1 : p, "\n"), slash ? slash + 1 : p);
}

int mem_largest(struct mem_mapping *out, size_t n, uint64_t *total_kb) {
        _cleanup_(file_closep) FILE *f = fopen("/proc/self/smaps", "re");
        _cleanup_free_ struct mem_mapping *all = calloc(MAX_NAMES, sizeof(*all));
        char line[512], name[64] = "";
        size_t n_all = 0;
        uint64_t kb;

        if (!all)
                return -ENOMEM;
        if (!f)
                return -errno;
        *total_kb = 0;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "Rss: %" SCNu64 " kB", &kb) == 1) {
                        size_t i;
                        for (i = 0; i < n_all && !streq(all[i].name, name); i++)
                                ;
                        if (i == n_all && n_all < MAX_NAMES)
                                snprintf(all[n_all++].name, sizeof(all[0].name), "%s", name);
                        if (i < n_all)
                                all[i].rss_kb += kb;
                        *total_kb += kb;
                } else if (is_header(line))
                        mapping_name(line, name, sizeof(name));
        }
        qsort(all, n_all, sizeof(*all), by_rss);
        memset(out, 0, n * sizeof(*out));
        memcpy(out, all, (n < n_all ? n : n_all) * sizeof(*out));
        return 0;
}
