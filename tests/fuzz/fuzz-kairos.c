/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the names a Kairos node's own files give the boot.
 * The input is a symlink's target, as kairos-agent leaves one in
 * /var/lib/kairos/extensions/<mode>/ (kairos_mode_link_target(),
 * src/plan/kairos-mode.c, read by src/boot/sysext-boot.c); after a NUL, the
 * top directory it must point into (default /var/lib/kairos/extensions).
 * The link is made in a tmpfs directory (/dev/shm, else TMPDIR) and read
 * back; the name it gives is then parsed as an extension image name. The
 * target is also taken as a boot entry name (LoaderEntrySelected) and as a
 * file name in the mode directory. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-tmpdir.h"
#include "kairos-mode.h"
#include "sysext-verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_tmpdir("fuzz-kairos");
        return 0;
}

static void as_name(const char *name) {
        char *n = NULL, *why = NULL;
        enum sysext_kind kind;

        if (sysext_name_from_path(name, &n, &kind, &why) >= 0) {
                if (!*n || strchr(n, '/'))
                        abort();
        }
        free(n);
        free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *target = strndup((const char *) data, size), buf[PATH_MAX];
        const uint8_t *nul = memchr(data, 0, size);
        char *top = nul ? strndup((const char *) nul + 1, size - (size_t) (nul - data) - 1) : strdup("/var/lib/kairos/extensions");
        struct kairos_mode m;
        const char *name;

        if (!target || !top)
                goto out;
        (void) unlinkat(fuzz_dir_fd, "link", 0);
        if (symlinkat(target, fuzz_dir_fd, "link") == 0) {
                name = kairos_mode_link_target(fuzz_dir_fd, "link", top, buf, sizeof(buf));
                if (name) {
                        /* A plain file name directly in top, inside buf. */
                        if (name < buf || name >= buf + sizeof(buf) || !*name || strchr(name, '/') ||
                            !strcmp(name, ".") || !strcmp(name, ".."))
                                abort();
                        as_name(name);
                }
                /* A buffer too small for the link refuses it. */
                if (kairos_mode_link_target(fuzz_dir_fd, "link", top, buf, 8) && strlen(target) >= 7)
                        abort();
        }
        as_name(target);
        for (int installed = 0; installed < 2; installed++) {
                kairos_mode_uki(installed, target, &m);
                if (!m.mode)
                        abort();
                (void) kairos_mode_extension_dir(&m);
        }
out:
        free(target);
        free(top);
        return 0;
}
