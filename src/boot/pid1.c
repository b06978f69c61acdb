/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "log.h"
#include "pid1.h"
#include "safe-open.h"

extern char **environ;

/* The arguments the kernel gave /init. Set once by pid1_main() before the
 * pipeline runs and only read afterwards (by pid1_exec). */
static char **kernel_argv;

/* Whether the kernel gave us TSS2_LOG: the TPM code sets it to silence the
 * TSS's own logging, and the final init must get the kernel's environment. */
static bool kernel_had_tss2_log;

/* The kernel rate-limits what user space writes to /dev/kmsg (a burst of
 * ten lines per five seconds under kernel.printk_devkmsg=ratelimit, its
 * default), and a boot says more than that: lines, the failure banner among
 * them, would be missing from the kernel log that the final OS's journal
 * reads (the console gets them all anyway). PID 1 lifts the limit for its
 * own run and puts the default back right before the exec of the final
 * init. A value the command line set (printk.devkmsg=) cannot be changed
 * and is left as it is. (The kernel takes a value only with its newline.) */
#define DEVKMSG_SYSCTL "/proc/sys/kernel/printk_devkmsg"
static bool devkmsg_lifted;

static bool devkmsg_set(const char *value) {
        int fd = open(DEVKMSG_SYSCTL, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        bool ok = fd >= 0 && write(fd, value, strlen(value)) == (ssize_t) strlen(value);

        if (fd >= 0)
                close(fd);
        return ok;
}

static void devkmsg_lift(void) {
        char v[16] = "";
        int fd = open(DEVKMSG_SYSCTL, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return;
        ssize_t n = read(fd, v, sizeof(v) - 1);
        close(fd);
        if (n > 0 && startswith(v, "ratelimit"))
                devkmsg_lifted = devkmsg_set("on\n");
}

static void devkmsg_restore(void) {
        if (devkmsg_lifted && devkmsg_set("ratelimit\n"))
                devkmsg_lifted = false;
}

/* The API file systems, mounted before anything else so that /dev/console,
 * /dev/kmsg and /proc/cmdline exist. Safe flags: no setuid binaries or device
 * nodes anyone could plant on the writable ones (/dev/shm had neither nosuid
 * nor noexec under Kairos). The pipeline's early stage finds them mounted. */
static const struct api_fs {
        const char *source, *target, *type;
        unsigned long flags;
        const char *data;
        bool if_present;        /* only where the kernel made the mount point */
} api_fs[] = {
        { "proc",     "/proc",    "proc",     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false },
        { "sysfs",    "/sys",     "sysfs",    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false },
        { "devtmpfs", "/dev",     "devtmpfs", MS_NOSUID,                        "mode=0755", false },
        { "devpts",   "/dev/pts", "devpts",   MS_NOSUID | MS_NOEXEC,            "gid=5,mode=0620,ptmxmode=0000", false },
        { "tmpfs",    "/dev/shm", "tmpfs",    MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777", false },
        { "tmpfs",    "/run",     "tmpfs",    MS_NOSUID | MS_NODEV,             "mode=0755", false },
        { "tmpfs",    "/tmp",     "tmpfs",    MS_NOSUID | MS_NODEV,             "mode=1777", false },
        /* Before the plan is built: systemd-stub's variables are evidence of
         * a UKI boot (src/plan/usi-mode.h). sysfs shows the directory on EFI only. */
        { "efivarfs", "/sys/firmware/efi/efivars", "efivarfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
};

/* Signals nobody should be able to stop the boot with. A handler that does
 * nothing, not SIG_IGN: handlers fall back to the default at execve, ignored
 * dispositions would be inherited by the final init. SIGCHLD keeps its
 * default so the pipeline's waitpid() on its own children sees their status. */
static const int stray_signals[] = {
        SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM,
        SIGTSTP, SIGTTIN, SIGTTOU, SIGPWR, SIGWINCH,
};

static bool is_mount_point(const char *path) {
        struct stat st, parent;
        _cleanup_free_ char *up = path_join(path, "..");

        if (!up || stat(path, &st) < 0 || stat(up, &parent) < 0)
                return false;
        return st.st_dev != parent.st_dev;
}

/* Returns 0 or a negative errno; nothing can be logged yet for the first ones. */
static int mount_api_fs(const struct api_fs *m) {
        if (m->if_present && access(m->target, F_OK) < 0)
                return 0;
        if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (is_mount_point(m->target))
                return 0;
        if (mount(m->source, m->target, m->type, m->flags, m->data) < 0)
                return -errno;
        return 0;
}

/* stdio on the console, whatever the kernel managed to open for us (it has
 * none when the archive lacks /dev/console). Never a controlling terminal:
 * PID 1 must not get SIGHUP or a job-control stop from a console. */
static void stdio_on_console(void) {
        int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        dup2(fd, i);
        if (fd > 2)
                close(fd);
        for (int i = 0; i < 3; i++)
                (void) fcntl(i, F_SETFD, 0);
}

static void sig_nop(int sig) {
        (void) sig;
}

static void signals_setup(void) {
        struct sigaction sa = { .sa_handler = sig_nop, .sa_flags = SA_RESTART };

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(stray_signals); i++)
                (void) sigaction(stray_signals[i], &sa, NULL);
}

static void signals_default(void) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(stray_signals); i++)
                (void) sigaction(stray_signals[i], &sa, NULL);
        (void) sigaction(SIGCHLD, &sa, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Orphans are re-parented to PID 1; collect whatever has exited. Children
 * still running are inherited by the final init, which reaps them. */
static void reap_children(void) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* Every descriptor above stdio is closed by the exec itself: marked
 * close-on-exec here, so that when the exec fails the log still works. */
static void cloexec_all_but_stdio(void) {
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
                return;
        /* Kernels before 5.11: every descriptor number there can be. */
        long max = sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < (max > 0 ? max : 65536); fd++)
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int pid1_exec(const char *path, char *const argv[]) {
        char *const *args = argv;
        _cleanup_free_ char **own = NULL;

        if (!args) {
                size_t n = 0;

                while (kernel_argv && kernel_argv[n])
                        n++;
                own = calloc(n + 2, sizeof *own);
                if (!own)
                        return -ENOMEM;
                own[0] = (char *) path;
                for (size_t i = 1; i < n; i++)
                        own[i] = kernel_argv[i];
                args = own;
        }
        reap_children();
        signals_default();
        cloexec_all_but_stdio();
        if (kernel_argv && !kernel_had_tss2_log)
                (void) unsetenv("TSS2_LOG");
        devkmsg_restore();
        execve(path, args, environ);
        int e = errno;
        /* Back to the boot's own handling, so the failure policy runs as before. */
        signals_setup();
        return -e;
}

/* The mount points whose parent is the root mount, in mountinfo order (a
 * parent always comes before its children there, and children move with
 * their parent). */
static int top_mounts(strv *ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        long root_id = -1;
        strv lines = {};
        int r = 0;

        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0)
                if ((r = strv_push(&lines, line)) < 0)
                        goto out;
        /* The root mount is the last one mounted on "/" (the one we see). */
        for (size_t i = 0; i < lines.n; i++) {
                long id, parent;
                char mp[4096];
                if (sscanf(lines.v[i], "%ld %ld %*s %*s %4095s", &id, &parent, mp) == 3 && streq(mp, "/"))
                        root_id = id;
        }
        if (root_id < 0) {
                r = -ENOENT;
                goto out;
        }
        for (size_t i = 0; i < lines.n; i++) {
                long id, parent;
                char mp[4096];
                if (sscanf(lines.v[i], "%ld %ld %*s %*s %4095s", &id, &parent, mp) != 3 || parent != root_id ||
                    id == root_id)
                        continue;
                /* mountinfo escapes space, tab, newline and backslash as \ooo. */
                char *w = mp;
                for (const char *c = mp; *c; c++) {
                        unsigned o;
                        if (c[0] == '\\' && sscanf(c + 1, "%3o", &o) == 1 && c[1] && c[2] && c[3]) {
                                *w++ = (char) o;
                                c += 3;
                        } else
                                *w++ = *c;
                }
                *w = 0;
                if ((r = strv_push(ret, mp)) < 0)
                        goto out;
        }
out:
        strv_clear(&lines);
        return r;
}

/* A /proc/meminfo figure in kB, -1 when unknown. */
static long meminfo_kb(const char *key) {
        _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
        char name[64];
        long v;

        while (f && fscanf(f, "%63s %ld kB ", name, &v) == 2)
                if (strlen(name) == strlen(key) + 1 && strncmp(name, key, strlen(key)) == 0)
                        return v;
        return -1;
}

int pid1_relocate_root(const char *dir) {
        long avail0 = meminfo_kb("MemAvailable");
        uint64_t t0 = clock_usec(CLOCK_MONOTONIC);
        strv mounts = {};
        int r;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(errno, "relocate: cannot make the mounts private: %s", strerror(errno));
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "relocate: cannot create %s: %s", dir, strerror(errno));
        /* Listed before the bind, which would be one of them. */
        r = top_mounts(&mounts);
        if (r < 0)
                return log_error_errno(r, "relocate: cannot read /proc/self/mountinfo: %s", strerror(-r));
        /* Not recursive: the mounts on top are moved, not duplicated. */
        if (mount("/", dir, NULL, MS_BIND, NULL) < 0) {
                r = log_error_errno(errno, "relocate: cannot bind / onto %s: %s", dir, strerror(errno));
                goto out;
        }
        for (size_t i = 0; i < mounts.n; i++) {
                _cleanup_free_ char *to = path_join(dir, mounts.v[i]);
                if (!to) {
                        r = log_error_errno(ENOMEM, "relocate: out of memory");
                        goto out;
                }
                if (mount(mounts.v[i], to, NULL, MS_MOVE, NULL) < 0) {
                        r = log_error_errno(errno, "relocate: cannot move %s to %s: %s", mounts.v[i], to, strerror(errno));
                        goto out;
                }
        }
        /* Until the chroot, absolute paths still reach the covered rootfs. */
        if (chdir(dir) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
                r = log_error_errno(errno, "relocate: cannot move %s onto /: %s", dir, strerror(errno));
                goto out;
        }
        uint64_t us = clock_usec(CLOCK_MONOTONIC) - t0;
        long avail1 = meminfo_kb("MemAvailable");
        log_info("relocate: / is now a bind mount of the initramfs (%zu mounts moved, nothing copied) in %llu us, "
                 "MemAvailable %ld kB before, %ld kB after", mounts.n, (unsigned long long) us, avail0, avail1);
        r = 0;
out:
        strv_clear(&mounts);
        return r;
}

/* The files systemd-stub put in /.extra (from the UKI and the ESP) that
 * systemd in the final OS looks for in /run/systemd. Copied as immucore does;
 * each is read by safe_read_at(): a file too large, a symlink or anything but
 * a regular file is not copied, and nothing there can hold the boot. */
static void copy_extra(void) {
        static const char *const names[] = { "tpm2-pcr-signature.json", "tpm2-pcr-public-key.pem" };
        _cleanup_close_ int dir = open("/.extra", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (dir < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *dst = path_join("/run/systemd", names[i]);
                _cleanup_free_ char *buf = NULL;
                _cleanup_close_ int out = -1;
                _cleanup_free_ char *why = NULL;
                size_t n = 0;
                int r;

                if (!dst)
                        return;
                r = safe_read_at(dir, "/.extra", names[i], SAFE_EXTRA_MAX, &buf, &n, &why);
                if (r < 0) {
                        if (r != -ENOENT)
                                log_warn("pid1: %s; not copied", why);
                        continue;
                }
                if (mkdir("/run/systemd", 0755) < 0 && errno != EEXIST) {
                        log_warn("pid1: cannot create /run/systemd: %s", strerror(errno));
                        return;
                }
                out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
                if (out < 0 || write(out, buf, n) != (ssize_t) n) {
                        log_warn("pid1: cannot write %s: %s", dst, strerror(errno));
                        continue;
                }
                log_debug("pid1: copied /.extra/%s to %s", names[i], dst);
        }
}

_Noreturn void pid1_halt(void) {
        sync();
        (void) reboot(RB_HALT_SYSTEM);
        /* PID 1 must never exit: the kernel would panic with our reason lost. */
        for (;;)
                pause();
}

void pid1_setup(char **argv) {
        int api_result[ELEMENTSOF(api_fs)];

        kernel_argv = argv;
        kernel_had_tss2_log = getenv("TSS2_LOG") != NULL;
        for (size_t i = 0; i < ELEMENTSOF(api_fs); i++)
                api_result[i] = mount_api_fs(&api_fs[i]);
        stdio_on_console();
        devkmsg_lift();
        log_open(LOG_TARGET_KMSG);
        signals_setup();

        for (size_t i = 0; i < ELEMENTSOF(api_fs); i++)
                if (api_result[i] < 0)
                        log_error("pid1: cannot mount %s on %s: %s", api_fs[i].type, api_fs[i].target,
                                  strerror(-api_result[i]));

        copy_extra();
}
