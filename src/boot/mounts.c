/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libmount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "why.h"
#include "log.h"
#include "stages.h"
#include "mounts.h"
#include "devices.h"

static void mnt_free_contextp(struct libmnt_context **c) {
        if (*c)
                mnt_free_context(*c);
}

int mount_on_fd(const char *source, int target_fd, const char *fstype, const char *options, char **why) {
        _cleanup_(mnt_free_contextp) struct libmnt_context *cxt = mnt_new_context();
        char target[FD_PATH_MAX];
        int rc;

        if (!cxt)
                return -ENOMEM;
        if (mnt_context_disable_canonicalize(cxt, 1) < 0 || mnt_context_disable_helpers(cxt, 1) < 0 ||
            mnt_context_disable_mtab(cxt, 1) < 0 || mnt_context_set_source(cxt, source) < 0 ||
            mnt_context_set_target(cxt, fd_path(target_fd, target)) < 0 ||
            (fstype && mnt_context_set_fstype(cxt, fstype) < 0) ||
            mnt_context_set_options(cxt, options && *options ? options : "defaults") < 0) {
                why_set(why, 0, "libmount refused the mount parameters");
                return -EINVAL;
        }
        rc = mnt_context_mount(cxt);
        if (rc == 0 && mnt_context_get_status(cxt) == 1)
                return 0;
        int e = mnt_context_get_syscall_errno(cxt);
        char buf[WHY_MAX] = "";
        mnt_context_get_excode(cxt, rc, buf, sizeof buf);
        why_set(why, 0, "%s", buf[0] ? buf : strerror(e ? e : EIO));
        return e ? -e : -EIO;
}

int mount_bind_fd(int source_fd, int target_fd, char **why) {
        char src[FD_PATH_MAX];
        return mount_on_fd(fd_path(source_fd, src), target_fd, NULL, "bind", why);
}

bool fd_is_mount_of(int target_fd, long magic) {
        struct statfs sf;
        if (fd_is_mount_root(target_fd) <= 0 || fstatfs(target_fd, &sf) < 0)
                return false;
        return (long) sf.f_type == magic;
}

/* ---- early: the API file systems ----------------------------------------- */

/* Safe flags first: nothing on /dev/shm, /tmp or /run may be a setuid or a
 * device node an unprivileged user planted (a Kairos complaint). */
static const struct api_mount {
        const char *what, *where, *type, *options;
        bool pid1_only;         /* needs the firmware or the real kernel */
} api_mounts[] = {
        { "proc",       "/proc",                     "proc",       "nosuid,nodev,noexec", false },
        { "sysfs",      "/sys",                      "sysfs",      "nosuid,nodev,noexec", false },
        { "devtmpfs",   "/dev",                      "devtmpfs",   "nosuid,mode=0755", false },
        { "devpts",     "/dev/pts",                  "devpts",     "nosuid,noexec,gid=5,mode=0620,ptmxmode=0000", false },
        { "tmpfs",      "/dev/shm",                  "tmpfs",      "nosuid,nodev,noexec,mode=1777", false },
        { "tmpfs",      "/run",                      "tmpfs",      "nosuid,nodev,mode=0755", false },
        { "tmpfs",      "/tmp",                      "tmpfs",      "nosuid,nodev,mode=1777", false },
        { "securityfs", "/sys/kernel/security",      "securityfs", "nosuid,nodev,noexec", true },
        { "efivarfs",   "/sys/firmware/efi/efivars", "efivarfs",   "nosuid,nodev,noexec", true },
};

static long fs_magic(const char *type) {
        static const struct { const char *type; long magic; } t[] = {
                { "proc", PROC_SUPER_MAGIC }, { "sysfs", SYSFS_MAGIC }, { "devtmpfs", TMPFS_MAGIC },
                { "devpts", DEVPTS_SUPER_MAGIC }, { "tmpfs", TMPFS_MAGIC }, { "securityfs", SECURITYFS_MAGIC },
                { "efivarfs", EFIVARFS_MAGIC }, { "overlay", OVERLAYFS_SUPER_MAGIC },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (streq(t[i].type, type))
                        return t[i].magic;
        return 0;
}

int mounts_api(const struct plan *p, struct boot *b) {
        for (size_t i = 0; i < ELEMENTSOF(api_mounts); i++) {
                const struct api_mount *m = &api_mounts[i];
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *why = NULL;
                int r;

                if (m->pid1_only && !b->pid1)
                        continue;
                if (m->pid1_only) {
                        /* Present only with the matching kernel and firmware. */
                        if (root_open(b->root_fd, m->where, RESOLVE_TARGET, &fd, &why) < 0)
                                continue;
                } else if ((r = root_mkdir_p(b->root_fd, m->where, RESOLVE_TARGET, NULL, &fd, NULL, &why)) < 0)
                        return boot_fail(b, r, "early: cannot mount %s on %s%s: %s", m->type, b->root, m->where, why);

                bool existed = fd_is_mount_of(fd, fs_magic(m->type));
                if (!existed && (r = mount_on_fd(m->what, fd, m->type, m->options, &why)) < 0) {
                        if (m->pid1_only) {
                                if ((r = boot_warn(b, "early: %s on %s: %s", m->type, m->where, why)) < 0)
                                        return r;
                                continue;
                        }
                        return boot_fail(b, r, "early: cannot mount %s on %s%s: %s", m->type, b->root, m->where, why);
                }
                if ((r = boot_add_mount(b, STAGE_EARLY, m->what, m->where, m->type, m->options, existed)) < 0)
                        return r;
        }
        return 0;
}

/* ---- fsck ---------------------------------------------------------------- */

int fsck_argv(const struct fsck_opts *o, const char *checker, const char *device, const char *argv[static 6]) {
        static const char *const repair_flag[] = {
                [FSCK_REPAIR_PREEN] = "-p", [FSCK_REPAIR_YES] = "-y", [FSCK_REPAIR_NO] = "-n",
        };
        size_t n = 0;

        if (o->mode == FSCK_SKIP)
                return 0;
        argv[n++] = checker;
        argv[n++] = repair_flag[o->repair];
        if (o->mode == FSCK_FORCE)
                argv[n++] = "-f";
        argv[n++] = device;
        argv[n] = NULL;
        return (int) n;
}

/* e2fsck from the image, when the image has one, for the ext file systems.
 * Exit codes 0-3 mean clean or repaired; 4 and up mean it is not safe. */
static int run_fsck(const struct plan *p, struct boot *b, const char *name, const char *device, const char *fstype) {
        static const char *const checkers[] = { "/usr/sbin/e2fsck", "/sbin/e2fsck" };
        const char *argv[6];
        char path[4096] = "";

        if (!startswith(fstype, "ext"))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(checkers) && !path[0]; i++) {
                snprintf(path, sizeof path, "%s%s", b->root, checkers[i]);
                if (access(path, X_OK) < 0)
                        path[0] = '\0';
        }
        if (!path[0] || fsck_argv(&p->fsck, path, device, argv) == 0)
                return 0;

        pid_t pid = fork();
        if (pid < 0)
                return boot_fail(b, -errno, "volume %s: cannot start %s: %s", name, path, strerror(errno));
        if (pid == 0) {
                execv(path, (char **) argv);
                _exit(8);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return boot_fail(b, -errno, "volume %s: waiting for %s: %s", name, path, strerror(errno));
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 8;
        char line[4200] = "";
        for (size_t i = 0; argv[i]; i++)
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", i ? " " : "", argv[i]);
        /* e2fsck's exit codes 1-3: it found errors and corrected them, which
         * says something about the disk or the last shutdown. */
        if (code >= 1 && code <= 3)
                log_warn("volume %s: %s exited %d: errors on %s were corrected%s", name, line, code, device,
                         code & 2 ? " (e2fsck advises a reboot)" : "");
        else
                log_info("volume %s: %s exited %d", name, line, code);
        if (code >= 4)
                return boot_fail(b, -EUCLEAN, "volume %s: %s found errors on %s it did not repair (exit %d); not mounting it",
                                 name, path, device, code);
        return 0;
}

/* ---- the volumes ----------------------------------------------------------- */

static int mount_volume(const struct plan *p, const struct plan_volume *v, struct boot *b, struct boot_volume *bv) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *why = NULL;
        struct stat dev_st, tgt_st;
        int r;

        if (bv->dev.content != CONTENT_FS && !bv->opened)
                return boot_fail(b, -EPERM, "volume %s: %s is %s and was not opened by the unlock stage; refusing to mount it raw",
                                 v->name, bv->dev.devnode, content_to_string(bv->dev.content));
        if (volume_needs_crypt(p, v) && !bv->opened)
                return boot_fail(b, -EPERM, "volume %s: must be mounted through a dm-crypt mapping usi-init opened; refusing %s",
                                 v->name, bv->mount_device);
        const char *fstype = bv->mount_fstype;
        if (!fstype) {
                /* Nothing recognised, or nothing readable: probe again for
                 * the error, so an I/O error is not reported as no file system. */
                struct probed again = {};
                int e = probe_device(bv->mount_device, &again);
                probed_done(&again);
                if (e < 0 && e != -ENOMEM)
                        return boot_fail(b, e, "volume %s: cannot read %s%s%s%s: %s; not mounting it", v->name,
                                         bv->mount_device, bv->opened ? " (opened from " : "",
                                         bv->opened ? strempty(bv->dev.devnode) : "", bv->opened ? ")" : "", strerror(-e));
                return boot_fail(b, -EMEDIUMTYPE, "volume %s: no file system found on %s", v->name, bv->mount_device);
        }
        if (!streq(v->fstype, "auto") && !streq(v->fstype, fstype))
                return boot_fail(b, -EMEDIUMTYPE, "volume %s: %s holds %s, the configuration expects %s; not mounting it",
                                 v->name, bv->mount_device, fstype, v->fstype);

        if ((r = root_mkdir_p(b->root_fd, v->mount, RESOLVE_TARGET, NULL, &fd, NULL, &why)) < 0)
                return boot_fail(b, r, "volume %s: mount point %s", v->name, why);
        if (stat(bv->mount_device, &dev_st) < 0)
                return boot_fail(b, -errno, "volume %s: %s: %s", v->name, bv->mount_device, strerror(errno));
        /* A second run: the device is already what the mount point shows. */
        bool existed = fstat(fd, &tgt_st) == 0 && S_ISBLK(dev_st.st_mode) && tgt_st.st_dev == dev_st.st_rdev &&
                       fd_is_mount_root(fd) > 0;
        if (!existed) {
                if ((r = run_fsck(p, b, v->name, bv->mount_device, fstype)) < 0)
                        return r;
                if ((r = mount_on_fd(bv->mount_device, fd, fstype, v->options, &why)) < 0)
                        return boot_fail(b, r, "volume %s: cannot mount %s (%s) on %s%s: %s", v->name, bv->mount_device,
                                         fstype, b->root, v->mount, why);
                log_info("volume %s: mounted %s on %s%s", v->name, bv->mount_device, b->root, v->mount);
        }
        bv->mounted = true;
        bv->mounted_at_ms = clock_usec(CLOCK_BOOTTIME) / 1000u;
        return boot_add_mount(b, STAGE_MOUNTS, bv->mount_device, v->mount, fstype, v->options, existed);
}

int stage_mounts(const struct plan *p, struct boot *b) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                struct boot_volume *bv = boot_volume_get(b, v->name);
                int r;

                if (!bv)
                        return -ENOMEM;
                if (!boot_volume_in_pass(p, b, v) || !v->mount || !bv->found || bv->mounted)
                        continue;
                if (!bv->mount_device) {
                        if (v->required)
                                return boot_fail(b, -EPERM, "volume %s: %s (%s) was not opened; refusing to mount it raw",
                                                 v->name, bv->dev.devnode, content_to_string(bv->dev.content));
                        continue;
                }
                if ((r = mount_volume(p, v, b, bv)) < 0)
                        return r;
        }
        return 0;
}
