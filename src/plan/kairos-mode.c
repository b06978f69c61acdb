/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>

#include "efivars.h"
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

static const struct { const char *mode, *dir; } extension_dirs[] = {
        { "active_mode",    "active" },
        { "passive_mode",   "passive" },
        { "recovery_mode",  "recovery" },
        { "autoreset_mode", "recovery" },
};

const char *kairos_mode_extension_dir(const struct kairos_mode *m) {
        for (size_t i = 0; m->mode && i < ELEMENTSOF(extension_dirs); i++)
                if (streq(m->mode, extension_dirs[i].mode))
                        return extension_dirs[i].dir;
        return NULL;
}

void kairos_mode_detect(bool usi_mode, const char *cmdline, int efivars_fd, struct kairos_mode *ret,
                        char **ret_entry, char **ret_partuuid) {
        _cleanup_free_ char *entry = NULL, *partuuid = NULL;

        if (!usi_mode) {
                kairos_mode_cmdline(cmdline, ret);
        } else {
                if (efivars_fd >= 0) {
                        (void) efivar_read_string(efivars_fd, "LoaderDevicePartUUID", EFI_LOADER_GUID, &partuuid);
                        (void) efivar_read_string(efivars_fd, "LoaderEntrySelected", EFI_LOADER_GUID, &entry);
                }
                kairos_mode_uki(partuuid && *partuuid, entry, ret);
        }
        if (ret_entry)
                *ret_entry = TAKE_PTR(entry);
        if (ret_partuuid)
                *ret_partuuid = TAKE_PTR(partuuid);
}

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
