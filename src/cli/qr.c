/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include "qr.h"

#if HAVE_QRENCODE_H
#include <dlfcn.h>
#include <qrencode.h>
#include <stdio.h>

#include "util.h"

typedef QRcode *(*encode_fn)(const char *, int, QRecLevel, QRencodeMode, int);
typedef void (*free_fn)(QRcode *);

/* Is module (x, y) light? Outside the code: the quiet zone, light. */
static int light(const QRcode *q, int x, int y) {
        if (x < 0 || y < 0 || x >= q->width || y >= q->width)
                return 1;
        return !(q->data[y * q->width + x] & 1);
}

/* Two rows of modules per line with half blocks; light modules are drawn,
 * which reads right on the usual light-on-dark console. */
static void draw(FILE *f, const QRcode *q) {
        static const char *const cell[4] = { " ", "\u2584", "\u2580", "\u2588" };

        for (int y = -2; y < q->width + 2; y += 2) {
                for (int x = -2; x < q->width + 2; x++)
                        fputs(cell[light(q, x, y) << 1 | light(q, x, y + 1)], f);
                fputc('\n', f);
        }
}

void qr_show(int fd, const struct secret *text) {
        void *lib;
        encode_fn encode;
        free_fn release;
        QRcode *q;
        FILE *f;

        if (!isatty(fd) || !(lib = dlopen("libqrencode.so.4", RTLD_NOW | RTLD_LOCAL)))
                return;
        encode = (encode_fn) dlsym(lib, "QRcode_encodeString");
        release = (free_fn) dlsym(lib, "QRcode_free");
        q = encode && release ? encode((const char *) text->data, 0, QR_ECLEVEL_L, QR_MODE_8, 1) : NULL;
        if (q) {
                if ((f = fdopen(dup(fd), "w"))) {
                        draw(f, q);
                        fclose(f);
                }
                /* The code holds the key: wipe it before it is freed. */
                explicit_bzero(q->data, (size_t) q->width * (size_t) q->width);
                release(q);
        }
        dlclose(lib);
}
#else
void qr_show(int fd, const struct secret *text) {
        (void) fd;
        (void) text;
}
#endif
