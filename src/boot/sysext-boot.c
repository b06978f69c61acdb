/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The extensions stage: system extension images reach the final OS.
 *
 * Sources, in this order: the images systemd-stub unpacked from next to the
 * booted UKI into /.extra/sysext (measured into PCR 13, held in RAM, so each
 * one is consumed as it is staged), then the Kairos layout on the
 * persistent volume, /var/lib/kairos/{extensions,confexts}/<mode>/ and
 * common/ (not measured: the signature is all that protects them). Every
 * image is verified against the plan's trust anchor and handed over in
 * sidecar form in /run/extensions or /run/confexts; the anchor goes to
 * /run/verity.d so systemd-sysext trusts exactly it. A rejected image is
 * dropped with its reason; nothing here stops the boot. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "root-fs.h"
#include "record.h"
#include "efivars.h"
#include "kairos-mode.h"
#include "log.h"
#include "stages.h"
#include "sysext-stage.h"

/* The stub's directory, and per Kairos kind the top, mode and common dirs. */
#define EXT_FDS_MAX 8

struct ext_list {
        struct sysext_source *v;
        enum ext_source *origin;        /* same order */
        size_t n;
        strv owned;                     /* the strings v points to */
        int fds[EXT_FDS_MAX];
        size_t n_fds;
};

static void ext_list_done(struct ext_list *l) {
        free(l->v);
        free(l->origin);
        strv_clear(&l->owned);
        for (size_t i = 0; i < l->n_fds; i++)
                close(l->fds[i]);
        *l = (struct ext_list) {};
}

/* A copy that lives as long as the list (strv_push copies; the copy's
 * address does not move when the vector grows). */
static const char *own(struct ext_list *l, const char *s) {
        return strv_push(&l->owned, s) < 0 ? NULL : l->owned.v[l->owned.n - 1];
}

static int keep_fd(struct ext_list *l, int fd) {
        if (l->n_fds >= EXT_FDS_MAX) {
                close(fd);
                return -E2BIG;
        }
        l->fds[l->n_fds++] = fd;
        return fd;
}

static int add(struct ext_list *l, enum ext_source origin, int dir_fd, const char *file, const char *path, bool confext) {
        struct sysext_source *v = realloc(l->v, (l->n + 1) * sizeof *v);
        enum ext_source *o;
        const char *f, *p;

        if (!v)
                return -ENOMEM;
        l->v = v;
        if (!(o = realloc(l->origin, (l->n + 1) * sizeof *o)))
                return -ENOMEM;
        l->origin = o;
        if (!(f = own(l, file)) || !(p = own(l, path)))
                return -ENOMEM;
        l->v[l->n] = (struct sysext_source) { .dir_fd = dir_fd, .file = f, .path = p, .confext = confext };
        l->origin[l->n++] = origin;
        return 0;
}

/* Open a source directory beneath the root; -ENOENT (nothing there) is no
 * error. Persistent data is walked without any symlink. */
static int open_dir(struct boot *b, struct ext_list *l, const char *path, enum resolve_mode mode) {
        _cleanup_free_ char *why = NULL;
        int fd = -1, r;

        r = root_open_flags(b->root_fd, path, mode, O_RDONLY | O_DIRECTORY, &fd, &why);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                (void) boot_warn(b, "extensions: %s skipped: %s", path, why ? why : strerror(-r));
                return r;
        }
        return keep_fd(l, fd);
}

static int add_kairos_dir(struct boot *b, struct ext_list *l, const char *top, int top_fd, const char *sub, bool confext) {
        _cleanup_free_ char *dir = path_join(top, sub);
        strv found = {};
        int fd, r;

        if (!dir)
                return -ENOMEM;
        if ((fd = open_dir(b, l, dir, RESOLVE_STRICT)) < 0)
                return fd == -ENOMEM ? fd : 0;
        if ((r = sysext_list_dir(fd, dir, SYSEXT_LIST_SYMLINKS, &found)) < 0)
                return r == -ENOMEM ? r : boot_warn(b, "extensions: cannot read %s: %s", dir, strerror(-r));
        for (size_t i = 0; r >= 0 && i < found.n; i++) {
                const char *file = strrchr(found.v[i], '/') + 1, *target;
                char link[PATH_MAX];
                struct stat st;

                if (fstatat(fd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) {
                        r = add(l, EXT_SOURCE_KAIROS, fd, file, found.v[i], confext);
                        continue;
                }
                if (!(target = kairos_mode_link_target(fd, file, top, link, sizeof link))) {
                        log_warn("extensions: %s skipped: a symlink that does not name an image in %s", found.v[i], top);
                        continue;
                }
                r = add(l, EXT_SOURCE_KAIROS, top_fd, target, found.v[i], confext);
        }
        strv_clear(&found);
        return r;
}

/* <top>/<mode>/ then <top>/common/, as immucore reads them. */
static int add_kairos(struct boot *b, struct ext_list *l, const char *top, bool confext, const char *mode_dir) {
        int top_fd, r;

        if ((top_fd = open_dir(b, l, top, RESOLVE_STRICT)) < 0)
                return top_fd == -ENOMEM ? top_fd : 0;
        if ((r = add_kairos_dir(b, l, top, top_fd, mode_dir, confext)) < 0)
                return r;
        return add_kairos_dir(b, l, top, top_fd, "common", confext);
}

static int add_stub(struct boot *b, struct ext_list *l) {
        strv found = {};
        int fd, r;

        if ((fd = open_dir(b, l, PLAN_STUB_SYSEXT_DIR, RESOLVE_TARGET)) < 0)
                return fd == -ENOMEM ? fd : 0;
        if ((r = sysext_list_dir(fd, PLAN_STUB_SYSEXT_DIR, 0, &found)) < 0)
                return r == -ENOMEM ? r : boot_warn(b, "extensions: cannot read %s: %s", PLAN_STUB_SYSEXT_DIR, strerror(-r));
        for (size_t i = 0; r >= 0 && i < found.n; i++)
                r = add(l, EXT_SOURCE_STUB, fd, strrchr(found.v[i], '/') + 1, found.v[i], false);
        strv_clear(&found);
        return r;
}

/* The Kairos mode the plan decided decides the sub-directory. */
static const char *kairos_mode_dir(const struct plan *p) {
        const char *dir = kairos_mode_extension_dir(&p->kairos);

        if (!dir)
                log_info("extensions: nothing from %s or %s: boot mode %s (boot entry %s, boot partition %s)",
                         PLAN_KAIROS_SYSEXT_DIR, PLAN_KAIROS_CONFEXT_DIR, p->kairos.mode,
                         p->boot_entry ? p->boot_entry : "none", p->boot_partuuid ? p->boot_partuuid : "none");
        return dir;
}

/* The plan's certificate directories, then EFI PK, KEK and db (the EFI
 * variables of the plan inputs: the firmware's when the root is this
 * machine, as in a service on the real root whose PID 1 is systemd). */
static int build_anchor(const struct plan *p, struct boot *b, struct sysext_anchor *a, char *why, size_t size) {
        int efivars_fd = b->efivars_fd;
        int r;

        for (size_t i = 0; i < p->ext_cert_dirs.n; i++)
                if ((r = sysext_anchor_add_cert_dir(a, b->root_fd, p->ext_cert_dirs.v[i])) == -ENOMEM)
                        return r;
        if (p->ext_efi_keys && efivars_fd >= 0 &&
            (r = sysext_anchor_add_efivars(a, efivars_fd)) == -ENOMEM)
                return r;
        if (sysext_anchor_count(a) > 0)
                return 0;
        int n = snprintf(why, size, "no certificate in");
        for (size_t i = 0; i < p->ext_cert_dirs.n && n > 0 && (size_t) n < size; i++)
                n += snprintf(why + n, size - (size_t) n, "%s %s/*.crt", i ? "," : "", p->ext_cert_dirs.v[i]);
        if (!p->ext_cert_dirs.n && n > 0 && (size_t) n < size)
                n += snprintf(why + n, size - (size_t) n, " no directory (certificates: [])");
        if (n > 0 && (size_t) n < size)
                snprintf(why + n, size - (size_t) n, "%s", !p->ext_efi_keys ? "; EFI keys not used (efi_keys: false)" :
                         efivars_fd < 0 ? "; no EFI variables to take PK, KEK and db from" : "; none in EFI PK, KEK or db");
        return 0;
}

/* /run/verity.d, /run/extensions, /run/confexts. */
static int open_run_dir(struct boot *b, const char *path, int *ret) {
        _cleanup_free_ char *why = NULL;
        int r = root_mkdir_p(b->root_fd, path, RESOLVE_STRICT, NULL, ret, NULL, &why);

        if (r < 0)
                (void) boot_warn(b, "extensions: cannot create %s: %s; no extension is staged", path, why);
        return r;
}

static int record(struct boot *b, const struct ext_list *l, size_t first, const struct sysext_result *res, size_t n) {
        struct boot_extension *v = realloc(b->extensions, (b->n_extensions + n) * sizeof *v);

        if (!v)
                return -ENOMEM;
        b->extensions = v;
        for (size_t i = 0; i < n; i++) {
                struct boot_extension *e = &b->extensions[b->n_extensions];
                *e = (struct boot_extension) { .source = l->origin[first + i], .confext = res[i].kind == SYSEXT_KIND_CONFEXT };
                if (!(e->path = strdup(res[i].path)) || (res[i].name && !(e->name = strdup(res[i].name))) ||
                    (res[i].reason && !(e->reason = strdup(res[i].reason)))) {
                        free(e->path);
                        free(e->name);
                        return -ENOMEM;
                }
                b->n_extensions++;
                if (e->name)
                        log_info("extensions: %s: accepted as %s (%s)", e->path, e->name, e->confext ? "confext" : "sysext");
                else
                        log_warn("extensions: %s: rejected: %s", e->path, e->reason);
        }
        return 0;
}

/* Stage list entries [first, first+n) with one set of flags. */
static int stage_range(struct boot *b, const struct ext_list *l, size_t first, size_t n, const struct sysext_anchor *a,
                       int ext_fd, int confext_fd, unsigned flags, uint64_t *room) {
        struct sysext_result *res = NULL;
        int r;

        if (n == 0)
                return 0;
        r = sysext_stage_all(l->v + first, n, a, ext_fd, confext_fd, flags | SYSEXT_STAGE_QUIET, room, &res);
        if (r < 0)
                return r;
        r = record(b, l, first, res, n);
        sysext_results_free(res, n);
        return r;
}

static bool any_source(const struct plan *p) {
        for (size_t s = 0; s < _EXT_SOURCE_MAX; s++)
                if (p->ext_source[s])
                        return true;
        return false;
}

int stage_extensions(const struct plan *p, struct boot *b) {
        _cleanup_(sysext_anchor_done) struct sysext_anchor anchor = {};
        _cleanup_close_ int verity_fd = -1, ext_fd = -1, confext_fd = -1;
        struct ext_list l = {};
        size_t n_stub = 0;
        char no_anchor[WHY_MAX] = "";
        size_t accepted = 0;
        /* One cap for both sources: they share /run. */
        uint64_t room = SYSEXT_STAGE_ROOM_DEFAULT;
        int r;

        if (!any_source(p)) {
                log_info("extensions: no source enabled");
                return 0;
        }
        if ((r = sysext_anchor_init(&anchor)) < 0)
                return r;
        if (p->ext_source[EXT_SOURCE_STUB] && (r = add_stub(b, &l)) < 0)
                goto out;
        n_stub = l.n;
        if (p->ext_source[EXT_SOURCE_KAIROS] && (b->ext_mode_dir = kairos_mode_dir(p)) &&
            ((r = add_kairos(b, &l, PLAN_KAIROS_SYSEXT_DIR, false, b->ext_mode_dir)) < 0 ||
             (r = add_kairos(b, &l, PLAN_KAIROS_CONFEXT_DIR, true, b->ext_mode_dir)) < 0))
                goto out;

        if ((r = build_anchor(p, b, &anchor, no_anchor, sizeof no_anchor)) < 0)
                goto out;
        for (size_t i = 0; i < sysext_anchor_count(&anchor); i++)
                if ((r = strv_push(&b->ext_anchor, anchor.origins.v[i])) < 0)
                        goto out;
        if (sysext_anchor_count(&anchor) > 0) {
                _cleanup_free_ char *werr = NULL;
                if (open_run_dir(b, PLAN_RUN_VERITY_D, &verity_fd) < 0)
                        goto drop;
                if ((r = sysext_anchor_write_pem(&anchor, verity_fd, &werr)) < 0) {
                        (void) boot_warn(b, "extensions: cannot write %s: %s; no extension is staged", PLAN_RUN_VERITY_D,
                                         werr ? werr : strerror(-r));
                        goto drop;
                }
                log_info("extensions: %zu trusted certificates written to %s", sysext_anchor_count(&anchor),
                         PLAN_RUN_VERITY_D);
                if (l.n > 0 && (open_run_dir(b, PLAN_RUN_EXTENSIONS, &ext_fd) < 0 ||
                                open_run_dir(b, PLAN_RUN_CONFEXTS, &confext_fd) < 0))
                        goto drop;
        } else if (l.n > 0 && (r = boot_warn(b, "extensions: no trust anchor (%s): none of the %zu images is staged",
                                             no_anchor, l.n)) < 0)
                goto out;

        /* The stub's images are in RAM: each is freed as it is staged (or
         * refused). The persistent ones are copied and stay where they are. */
        if ((r = stage_range(b, &l, 0, n_stub, &anchor, ext_fd, confext_fd, SYSEXT_STAGE_CONSUME, &room)) < 0 ||
            (r = stage_range(b, &l, n_stub, l.n - n_stub, &anchor, ext_fd, confext_fd, 0, &room)) < 0)
                goto out;
        for (size_t i = 0; i < b->n_extensions; i++)
                accepted += b->extensions[i].name != NULL;
        if (l.n > 0)
                log_info("extensions: %zu of %zu images staged", accepted, b->n_extensions);
        else
                log_info("extensions: no image found (Kairos directory: %s)", b->ext_mode_dir ? b->ext_mode_dir : "none");
        if (sysext_anchor_count(&anchor) > 0)
                goto out;
drop:
        /* Nothing can be staged: the stub's images would only hold memory. */
        for (size_t i = 0; i < n_stub; i++)
                (void) unlinkat(l.v[i].dir_fd, l.v[i].file, 0);
out:
        ext_list_done(&l);
        /* Only running out of memory is an error of the boot. */
        return r == -ENOMEM ? r : 0;
}
