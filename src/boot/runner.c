/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "root-fs.h"
#include "efivars.h"
#include "runner.h"
#include "stages.h"
#include "devices.h"
#include "handoff.h"
#include "load.h"
#include "log.h"
#include "phase.h"
#include "pid1.h"
#include "state.h"
#include "unlock.h"
#include "tpm-session.h"


int boot_init(struct boot *b, const struct boot_options *o) {
        const char *given = o->root && *o->root ? o->root : "/";
        _cleanup_free_ char *root = realpath(given, NULL);

        if (!root)
                return log_error_errno(errno, "boot: root %s: %s", given, strerror(errno));
        *b = (struct boot) {
                .root = "",
                .signatures = &o->signatures,
                .handoff = o->handoff,
                .measure_volume_keys = o->measure_volume_keys,
                .pid1 = o->pid1,
                .efivars_fd = -1,
                .failed_stage = -1,
                .start_usec = clock_usec(CLOCK_MONOTONIC),
                .start_realtime_usec = clock_usec(CLOCK_REALTIME),
        };
        b->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (b->root_fd < 0)
                return log_error_errno(errno, "boot: cannot open root %s: %s", root, strerror(errno));
        /* Paths said to the kernel (overlay layers) and in messages are the
         * canonical root + the plan's path; "" for /. */
        if (!streq(root, "/"))
                b->root = b->root_buf = TAKE_PTR(root);
        return 0;
}

void boot_done(struct boot *b) {
        tpm_session_close(b);
        devices_release(b);
        for (size_t i = 0; i < b->n_volumes; i++) {
                struct boot_volume *v = &b->volumes[i];
                free(v->name);
                probed_done(&v->dev);
                free(v->mapper);
                free(v->fs_type);
                free(v->mount_device);
                free(v->mount_fstype);
                free(v->pcr15);
                free(v->reseal);
        }
        free(b->volumes);
        free(b->pcr15);
        for (size_t i = 0; i < b->n_mounts; i++) {
                free(b->mounts[i].source);
                free(b->mounts[i].target);
                free(b->mounts[i].fstype);
                free(b->mounts[i].options);
        }
        free(b->mounts);
        strv_clear(&b->modules_loaded);
        strv_clear(&b->modules_missing);
        strv_clear(&b->warnings);
        for (size_t i = 0; i < b->n_extensions; i++) {
                free(b->extensions[i].path);
                free(b->extensions[i].name);
                free(b->extensions[i].reason);
        }
        free(b->extensions);
        strv_clear(&b->ext_anchor);
        free(b->failure);
        free(b->failure_device);
        free(b->root_buf);
        if (b->root_fd >= 0)
                close(b->root_fd);
        *b = (struct boot) { .root_fd = -1, .efivars_fd = -1, .failed_stage = -1 };
}

static const stage_fn stage_table[_STAGE_MAX] = {
        [STAGE_EARLY] = stage_early,
        [STAGE_MODULES] = stage_modules,
        [STAGE_DEVICES] = stage_devices,
        [STAGE_UNLOCK] = stage_unlock,
        [STAGE_MOUNTS] = stage_mounts,
        [STAGE_OVERLAYS] = stage_overlays,
        [STAGE_BINDS] = stage_binds,
        [STAGE_EXTENSIONS] = stage_extensions,
        [STAGE_HANDOFF] = stage_handoff,
};

/* rd.usi.break=STAGE: a shell on the console before that stage runs (the
 * first time, in either pass); the boot goes on when it exits. Only as PID
 * 1, where the console is the person debugging the boot. */
static void maybe_break(enum stage s, const struct plan *p, struct boot *b) {
        if (!b->pid1 || b->break_done || p->break_stage != (int) s)
                return;
        b->break_done = true;
        log_info("break: a shell before stage %s; exit it to continue the boot", stage_to_string(s));
        pid_t pid = fork();
        if (pid < 0) {
                (void) boot_warn(b, "break: cannot start a shell: %s", strerror(errno));
                return;
        }
        if (pid == 0) {
                execl("/bin/sh", "/bin/sh", (char *) NULL);
                _exit(127);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        log_info("break: shell exited, continuing with stage %s", stage_to_string(s));
}

static int run_stage(enum stage s, const struct plan *p, struct boot *b) {
        uint64_t t0;
        int r;

        /* A device that appeared since the devices stage and carries a found
         * volume's names fails the boot before anything else uses them. */
        if (s > STAGE_DEVICES && (r = devices_check_late(p, b)) < 0) {
                b->failed_stage = STAGE_DEVICES;
                return r;
        }
        maybe_break(s, p, b);
        t0 = clock_usec(CLOCK_MONOTONIC);
        /* CLOCK_BOOTTIME starts with the kernel: the timeline of a boot. */
        if (!b->stages[s].ran)
                b->stages[s].start_ms = clock_usec(CLOCK_BOOTTIME) / 1000u;

        log_debug("stage %s (%s pass)", stage_to_string(s), b->pass == BOOT_PASS_OEM ? "oem" : "main");
        r = stage_table[s](p, b);
        b->stages[s].ran = true;
        b->stages[s].ms += (clock_usec(CLOCK_MONOTONIC) - t0) / 1000u;
        b->stages[s].end_ms = clock_usec(CLOCK_BOOTTIME) / 1000u;
        b->stages[s].result = r < 0 ? r : 0;
        if (r < 0) {
                if (b->failed_stage < 0)
                        b->failed_stage = (int) s;
                if (!b->failure)
                        boot_fail(b, r, "stage %s failed: %s", stage_to_string(s), strerror(-r));
                b->failed = true;
        }
        return r;
}

/* Everything a plan mounts on or binds from must resolve beneath the root
 * without a symlink leading out, before the first mount is made. Paths
 * under a volume's mount point are checked again when they are used. */
static int preflight(const struct plan *p, struct boot *b) {
        _cleanup_free_ char *why = NULL;
        int r;

        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].mount && (r = root_check(b->root_fd, p->volumes[i].mount, RESOLVE_TARGET, &why)) < 0)
                        return boot_fail(b, r, "volume %s: mount point %s", p->volumes[i].name, why);
        if (p->overlay_paths.n && (r = root_check(b->root_fd, PLAN_OVERLAY_BASE, RESOLVE_TARGET, &why)) < 0)
                return boot_fail(b, r, "overlay base: %s", why);
        for (size_t i = 0; i < p->overlay_paths.n; i++)
                if ((r = root_check(b->root_fd, p->overlay_paths.v[i], RESOLVE_TARGET, &why)) < 0)
                        return boot_fail(b, r, "ephemeral path: %s", why);
        if (p->n_binds && (r = root_check(b->root_fd, p->state_dir, RESOLVE_STRICT, &why)) < 0)
                return boot_fail(b, r, "state dir: %s", why);
        for (size_t i = 0; i < p->n_binds; i++) {
                if ((r = root_check(b->root_fd, p->binds[i].path, RESOLVE_TARGET, &why)) < 0)
                        return boot_fail(b, r, "persistent path: %s", why);
                if ((r = root_check(b->root_fd, p->binds[i].state, RESOLVE_STRICT, &why)) < 0)
                        return boot_fail(b, r, "persistent path %s: state dir %s", p->binds[i].path, why);
        }
        return 0;
}

static int load(const struct plan_inputs *in, bool oem, struct plan *p, struct boot *b) {
        struct cmdline cl;
        strv errors = {};
        int r;

        cmdline_init(&cl);
        r = plan_load(in, oem, &cl, p, &errors);
        cmdline_done(&cl);
        if (r < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        log_error("%s", errors.v[i]);
                boot_fail(b, r, "%s: %s", oem ? "the configuration on /oem is not valid" : "the configuration is not valid",
                          errors.n ? errors.v[0] : strerror(-r));
                strv_clear(&errors);
                return r;
        }
        strv_clear(&errors);
        for (size_t i = 0; i < p->notes.n; i++)
                if ((r = boot_warn(b, "%s", p->notes.v[i])) < 0)
                        return r;
        return 0;
}

static bool oem_mounted(const struct plan *p, const struct boot *b) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct boot_volume *bv = boot_volume_find(b, p->volumes[i].name);
                if (p->volumes[i].mount && streq(p->volumes[i].mount, "/oem") && bv && bv->mounted)
                        return true;
        }
        return false;
}

static bool path_under(const char *path, const char *dir) {
        size_t n = strlen(dir);

        if (streq(dir, "/"))
                return path[0] == '/';
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* "DEVICE (volume NAME, label L)" of volume v, as the banner names it. */
static void volume_device(const struct plan_volume *v, const struct boot_volume *bv, const char *dev, char *buf,
                          size_t size) {
        snprintf(buf, size, "%s (volume %s%s%s)", dev, v->name, bv->dev.label ? ", label " : "", strempty(bv->dev.label));
}

/* The binds work in the state dir: the mounted volume it lies on (the
 * longest mount point above it). */
static bool state_dir_device(const struct plan *p, const struct boot *b, char *buf, size_t size) {
        const struct plan_volume *best = NULL;
        const struct boot_volume *best_bv = NULL;

        for (size_t i = 0; p->state_dir && i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                const struct boot_volume *bv = boot_volume_find(b, v->name);

                if (v->mount && bv && bv->mounted && bv->mount_device && path_under(p->state_dir, v->mount) &&
                    (!best || strlen(v->mount) > strlen(best->mount))) {
                        best = v;
                        best_bv = bv;
                }
        }
        if (!best)
                return false;
        volume_device(best, best_bv, best_bv->mount_device, buf, size);
        return true;
}

/* The device a failed stage was working on: the first volume of the pass
 * that the stage left undone; for the binds, the state dir's volume. */
static void failure_device(const struct plan *p, const struct boot *b, char *buf, size_t size) {
        snprintf(buf, size, "%s", b->failure_device ? b->failure_device : "none");
        if (b->failure_device || !p)
                return;
        if (b->failed_stage == STAGE_BINDS) {
                (void) state_dir_device(p, b, buf, size);
                return;
        }
        if (b->failed_stage < STAGE_DEVICES || b->failed_stage > STAGE_MOUNTS)
                return;
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                const struct boot_volume *bv = boot_volume_find(b, v->name);

                if (!boot_volume_in_pass(p, b, v))
                        continue;
                if (b->failed_stage == STAGE_DEVICES && (!bv || !bv->found)) {
                        int n = snprintf(buf, size, "none found for volume %s (", v->name);
                        for (size_t m = 0; m < v->n_matches && n > 0 && (size_t) n < size; m++)
                                n += snprintf(buf + n, size - (size_t) n, "%s%s %s", m ? ", " : "",
                                              match_kind_to_string(v->matches[m].kind), v->matches[m].value);
                        if (n > 0 && (size_t) n < size)
                                snprintf(buf + n, size - (size_t) n, ")");
                        return;
                }
                if (!bv || !bv->found)
                        continue;
                if ((b->failed_stage == STAGE_UNLOCK && !bv->opened && !bv->mount_device) ||
                    (b->failed_stage == STAGE_MOUNTS && !bv->mounted && v->mount)) {
                        volume_device(v, bv,
                                      b->failed_stage == STAGE_MOUNTS && bv->mount_device ? bv->mount_device : bv->dev.devnode,
                                      buf, size);
                        return;
                }
        }
}

/* One banner naming the stage, the device and the reason: on the console
 * and, for whoever looks later (the shell, `usi-init status`, a test), in
 * /run/usi-init/failure.log. */
#define FAILURE_LOG "failure.log"
static void failure_report(const struct plan *p, const struct boot *b) {
        const char *stage = b->failed_stage >= 0 ? stage_to_string((enum stage) b->failed_stage) : "plan";
        _cleanup_close_ int dir = -1, fd = -1;
        _cleanup_free_ char *text = NULL;
        char device[1024];
        _cleanup_free_ char *why = NULL;
        int n;

        failure_device(p, b, device, sizeof device);
        n = asprintf(&text, "==== boot failed in stage %s, device %s: %s ====\nstage: %s\ndevice: %s\nreason: %s\n",
                     stage, device, strempty(b->failure), stage, device, strempty(b->failure));
        if (n < 0)
                return;
        if (b->pid1)
                log_error("%.*s", (int) strcspn(text, "\n"), text);
        if (root_mkdir_p(b->root_fd, "/run/usi-init", RESOLVE_TARGET, NULL, &dir, NULL, &why) < 0 ||
            (fd = openat(dir, FAILURE_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0 ||
            write(fd, text, (size_t) n) != n)
                log_warn("cannot write %s/run/usi-init/%s", b->root, FAILURE_LOG);
}

/* Trust-chain refusals halt even where a shell is allowed: most come before
 * leave-initrd, with PCR 11 still at the signed value, and every one means
 * the machine is in the hands of whoever planted the disk; a root shell
 * would serve them. A reboot gives nobody anything and stays as configured. */
#define FAILURE_SHELL_WORD "usi-init-failure-shell"

enum on_failure boot_failure_action(const struct plan *p, const struct boot *b) {
        enum on_failure f = p ? p->on_failure : ON_FAILURE_HALT;

        if (f == ON_FAILURE_SHELL && (b->refused || !p->shell_allowed))
                return ON_FAILURE_HALT;
        return f;
}

static void failure_action(const struct plan *p, struct boot *b) {
        if (!b->pid1)
                return;
        enum on_failure f = boot_failure_action(p, b);
        if (f != (p ? p->on_failure : ON_FAILURE_HALT))
                log_error("a trust-chain refusal gets no shell, whatever rd.usi.shell or allow_shell say; halting");
        switch (f) {
        case ON_FAILURE_SHELL:
                /* Nor does any shell see PCR 11 at a signed value, before
                 * leave-initrd or after it (signatures may cover the later
                 * phases, as Kairos' do): a word no phase path contains goes
                 * in first, as Talos locks its own. No measurement, no shell. */
                tpm_session_close(b);
                if (phase_step(p, b, FAILURE_SHELL_WORD) >= 0)
                        execl("/bin/sh", "/bin/sh", (char *) NULL);
                break;
        case ON_FAILURE_REBOOT: {
                /* Time to read the reason: until the delay ends, or Enter. */
                struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
                log_error("rebooting in %u s (press Enter to reboot now)", p->reboot_delay_sec);
                (void) poll(&pfd, 1, (int) (p->reboot_delay_sec * 1000u));
                sync();
                reboot(RB_AUTOBOOT);
                break;
        }
        default:
                break;
        }
        sync();
        reboot(RB_HALT_SYSTEM);
}

int boot_run(const struct boot_options *o) {
        static const enum stage first[] = { STAGE_EARLY, STAGE_MODULES, STAGE_DEVICES, STAGE_UNLOCK, STAGE_MOUNTS };
        static const enum stage rest[] = { STAGE_DEVICES, STAGE_UNLOCK, STAGE_MOUNTS, STAGE_OVERLAYS, STAGE_BINDS,
                                           STAGE_EXTENSIONS };
        struct plan plan = { .break_stage = -1 }, oem_plan = { .break_stage = -1 };
        /* config_files borrowed, not freed here */
        struct plan_inputs in = { .root = o->root, .cmdline = o->cmdline, .config_files = o->config_files, .efivars_fd = -1 };
        const struct plan *p = &plan;
        _cleanup_free_ char *why = NULL;
        struct boot b;
        bool have_plan = false, have_oem = false;
        int r;

        /* Gathered once, by `plan`'s rules: both plans of one boot see the
         * same machine, and every stage reads the same EFI variables. */
        if ((r = plan_inputs_gather(&in, o->efivars, EFIVARS_DIR, &why)) < 0) {
                log_error_errno(r, "boot: %s", why);
                plan_inputs_done(&in);
                return r == -ENOMEM ? r : -EINVAL;
        }
        r = boot_init(&b, o);
        if (r < 0) {
                plan_inputs_done(&in);
                return r;
        }
        b.efivars_fd = in.efivars_fd;

        r = load(&in, false, &plan, &b);
        if (r < 0)
                goto out;
        have_plan = true;
        if ((r = preflight(p, &b)) < 0)
                goto out;

        b.pass = BOOT_PASS_OEM;
        for (size_t i = 0; i < ELEMENTSOF(first); i++)
                if ((r = run_stage(first[i], p, &b)) < 0)
                        goto out;

        /* trust-chain rule 3: the /oem config is read only now that /oem came
         * through the devices (and unlock) stage; the plan is rebuilt, not
         * patched. */
        if (oem_mounted(p, &b)) {
                if ((r = load(&in, true, &oem_plan, &b)) < 0)
                        goto out;
                have_oem = true;
                b.oem_config = true;
                p = &oem_plan;
                if ((r = preflight(p, &b)) < 0)
                        goto out;
        }

        b.pass = BOOT_PASS_REST;
        for (size_t i = 0; i < ELEMENTSOF(rest); i++) {
                if ((r = run_stage(rest[i], p, &b)) < 0)
                        goto out;
                if (rest[i] == STAGE_UNLOCK && (r = handoff_leave_initrd(p, &b)) < 0) {
                        b.failed_stage = STAGE_UNLOCK;
                        goto out;
                }
        }

        if ((r = handoff_write_fstab(&b)) < 0)
                goto out;
        log_info("boot: done in %llu ms", (unsigned long long) boot_elapsed_ms(&b));
        state_write(have_plan ? p : NULL, &b, o->state_file);
        r = run_stage(STAGE_HANDOFF, p, &b);
out:
        if (r < 0) {
                state_write(have_plan ? p : NULL, &b, o->state_file);
                failure_report(have_plan ? p : NULL, &b);
                failure_action(have_plan ? p : NULL, &b);
        }
        if (have_oem)
                plan_done(&oem_plan);
        if (have_plan)
                plan_done(&plan);
        boot_done(&b);
        plan_inputs_done(&in);
        return r;
}
