/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>

#include "efivars.h"
#include "usi-mode.h"

/* systemd-stub's own variables (systemd's docs/BOOT_LOADER_INTERFACE and
 * src/boot/efi/stub.c); systemd-boot sets none of them. StubInfo first: its
 * value names the stub. */
static const char *const stub_variables[] = {
        "StubInfo",
        "StubFeatures",
        "StubPcrKernelImage",
        "StubPcrKernelParameters",
        "StubPcrInitRDSysExts",
        "StubPcrInitRDConfExts",
};

#define EXTRA_DIR "/.extra"

static int not_dot(const struct dirent *d) {
        return d->d_name[0] != '.';
}

/* "/.extra holds a, b, c (left by systemd-stub)". The stub makes it only to
 * put files there; an empty one is part of an image (a kit that always
 * creates the directory), not evidence. */
static int extra_evidence(const char *root, strv *ret) {
        _cleanup_free_ char *path = path_join(root, EXTRA_DIR);
        _cleanup_close_ int fd = -1;
        struct dirent **names = NULL;
        char buf[1024];
        int n, len;

        if (!path)
                return -ENOMEM;
        /* A directory of the initramfs itself, never reached through a symlink. */
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = scandir(path, &names, not_dot, alphasort);
        if (n <= 0) {
                free(names);
                return 0;
        }
        len = snprintf(buf, sizeof buf, "%s holds ", EXTRA_DIR);
        for (int i = 0; i < n; i++) {
                if (len > 0 && (size_t) len < sizeof buf)
                        len += snprintf(buf + len, sizeof buf - (size_t) len, "%s%s", i ? ", " : "", names[i]->d_name);
                free(names[i]);
        }
        free(names);
        if (len > 0 && (size_t) len < sizeof buf)
                snprintf(buf + len, sizeof buf - (size_t) len, " (left by systemd-stub)");
        return strv_push(ret, buf);
}

/* "EFI variables of systemd-stub: StubInfo-GUID (systemd-stub 252.38), ..." */
static int efi_evidence(int fd, strv *ret) {
        char buf[1024];
        int len = 0;

        if (fd < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(stub_variables); i++) {
                _cleanup_free_ char *value = NULL;
                uint8_t raw[EFIVAR_MAX];
                size_t n;

                if (efivar_read(fd, stub_variables[i], EFI_LOADER_GUID, raw, sizeof raw, &n) < 0)
                        continue;
                if (streq(stub_variables[i], "StubInfo") && efi_utf16le_to_utf8(raw, n, &value) < 0)
                        return -ENOMEM;
                if (len >= 0 && (size_t) len < sizeof buf)
                        len += snprintf(buf + len, sizeof buf - (size_t) len, "%s%s-%s%s%s%s",
                                        len ? ", " : "EFI variables of systemd-stub: ", stub_variables[i], EFI_LOADER_GUID,
                                        value ? " (" : "", strempty(value), value ? ")" : "");
        }
        return len > 0 ? strv_push(ret, buf) : 0;
}

int usi_mode_evidence(const char *root, int efivars_fd, strv *ret) {
        int r = extra_evidence(strempty(root), ret);
        return r < 0 ? r : efi_evidence(efivars_fd, ret);
}
