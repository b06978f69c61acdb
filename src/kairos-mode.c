/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>

#include "kairos-mode.h"
#include "util.h"

static const struct { const char *prefix, *mode; } entry_modes[] = {
        { "active",     "active_mode" },
        { "passive",    "passive_mode" },
        { "recovery",   "recovery_mode" },
        { "statereset", "autoreset_mode" },
};

/* First match wins: kairos.reset rides on a recovery command line. */
static const struct { const char *word, *mode; } cmdline_modes[] = {
        { "kairos.reset",   "autoreset_mode" },
        { "COS_ACTIVE",     "active_mode" },
        { "COS_PASSIVE",    "passive_mode" },
        { "COS_RECOVERY",   "recovery_mode" },
        { "COS_SYSTEM",     "recovery_mode" },
        { "recovery-mode",  "recovery_mode" },
        { "live:LABEL",     "live_mode" },
        { "live:CDLABEL",   "live_mode" },
        { "netboot",        "live_mode" },
};

static bool endswith_str(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

void kairos_mode_uki(bool from_install, const char *entry, struct kairos_mode *ret) {
        *ret = (struct kairos_mode) { .mode = "unknown", .uki = from_install ? "uki_boot_mode" : "uki_install_mode" };
        if (!from_install) {
                ret->mode = "live_mode";
                return;
        }
        if (!entry || !endswith_str(entry, ".conf"))
                return;
        for (size_t i = 0; i < ELEMENTSOF(entry_modes); i++)
                if (startswith(entry, entry_modes[i].prefix)) {
                        ret->mode = entry_modes[i].mode;
                        return;
                }
}

void kairos_mode_cmdline(const char *cmdline, struct kairos_mode *ret) {
        *ret = (struct kairos_mode) { .mode = "unknown" };
        for (size_t i = 0; cmdline && i < ELEMENTSOF(cmdline_modes); i++)
                if (strstr(cmdline, cmdline_modes[i].word)) {
                        ret->mode = cmdline_modes[i].mode;
                        return;
                }
}

static int write_one(int dir_fd, const char *name) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        if (write(fd, "1", 1) != 1)
                return errno ? -errno : -EIO;
        return 0;
}

int kairos_mode_write(int dir_fd, const struct kairos_mode *m, const char **ret_failed) {
        const char *names[] = { m->mode, m->uki };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                if (!names[i])
                        continue;
                int r = write_one(dir_fd, names[i]);
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = names[i];
                        return r;
                }
        }
        return 0;
}
