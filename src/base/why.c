/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "why.h"

int why_set(char **why, int err, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (why) {
                va_start(ap, fmt);
                if (vasprintf(&s, fmt, ap) < 0)
                        s = NULL;
                va_end(ap);
                free(*why);
                /* One line, whatever outside strings the format took in. */
                *why = s ? str_escape_dup(s) : NULL;
                free(s);
        }
        return -abs(err);
}

void why_prefix(char **why, const char *fmt, ...) {
        va_list ap;
        char *p = NULL, *s = NULL;

        if (!why || !*why)
                return;
        va_start(ap, fmt);
        if (vasprintf(&p, fmt, ap) < 0)
                p = NULL;
        va_end(ap);
        if (p && asprintf(&s, "%s: %s", p, *why) >= 0) {
                free(*why);
                *why = str_escape_dup(s);
                free(s);
        }
        free(p);
}
