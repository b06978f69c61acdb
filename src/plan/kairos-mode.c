/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kairos-mode.h"
#include "util.h"

static const struct { const char *prefix, *mode; } entry_modes[] = {
        { "active",     "active_mode" },
        { "passive",    "passive_mode" },
        { "recovery",   "recovery_mode" },
        { "statereset", "autoreset_mode" },
};

/* First match wins: kairos.reset rides on a recovery command line, and a
 * recovery image boots as root=live:CDLABEL=COS_RECOVERY. */
enum by { BY_WORD, BY_LABEL, BY_LIVE_ROOT };
static const struct { enum by by; enum kairos_word word; const char *label, *mode; } cmdline_modes[] = {
        { BY_WORD,      KAIROS_WORD_RESET,    NULL,           "autoreset_mode" },
        { BY_LABEL,     0,                    "COS_ACTIVE",   "active_mode" },
        { BY_LABEL,     0,                    "COS_PASSIVE",  "passive_mode" },
        { BY_LABEL,     0,                    "COS_RECOVERY", "recovery_mode" },
        { BY_LABEL,     0,                    "COS_SYSTEM",   "recovery_mode" },
        { BY_WORD,      KAIROS_WORD_RECOVERY, NULL,           "recovery_mode" },
        { BY_LIVE_ROOT, 0,                    NULL,           "live_mode" },
        { BY_WORD,      KAIROS_WORD_NETBOOT,  NULL,           "live_mode" },
};

/* dracut's spellings of a root by file system label. */
static const char *const label_prefixes[] = { "LABEL=", "live:LABEL=", "live:CDLABEL=" };

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

void kairos_mode_detect(bool usi_mode, const struct cmdline *cl, const char *entry, const char *partuuid,
                        struct kairos_mode *ret) {
        if (usi_mode)
                kairos_mode_uki(partuuid && *partuuid, entry, ret);
        else
                kairos_mode_cmdline(cl, ret);
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

static const char *root_label(const char *root) {
        for (size_t i = 0; root && i < ELEMENTSOF(label_prefixes); i++)
                if (startswith(root, label_prefixes[i]))
                        return root + strlen(label_prefixes[i]);
        return NULL;
}

void kairos_mode_cmdline(const struct cmdline *cl, struct kairos_mode *ret) {
        const char *label = root_label(cl->root);

        *ret = (struct kairos_mode) { .mode = "unknown" };
        for (size_t i = 0; i < ELEMENTSOF(cmdline_modes); i++) {
                bool match = false;

                switch (cmdline_modes[i].by) {
                case BY_WORD:
                        match = cl->kairos_words[cmdline_modes[i].word];
                        break;
                case BY_LABEL:
                        match = label && streq(label, cmdline_modes[i].label);
                        break;
                case BY_LIVE_ROOT:
                        match = label && startswith(cl->root, "live:");
                        break;
                }
                if (match) {
                        ret->mode = cmdline_modes[i].mode;
                        return;
                }
        }
}

const char *kairos_mode_link_target(int dir_fd, const char *file, const char *top, char *buf, size_t size) {
        ssize_t n = size >= 2 ? readlinkat(dir_fd, file, buf, size - 1) : -1;
        const char *name;

        if (n <= 0 || (size_t) n >= size - 1)
                return NULL;
        buf[n] = '\0';
        if (!(name = startswith(buf, "../"))) {
                if (!(name = startswith(buf, top)) || *name != '/')
                        return NULL;
                name++;
        }
        if (!*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return NULL;
        return name;
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
