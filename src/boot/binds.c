/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "seed.h"
#include "why.h"
#include "root-fs.h"
#include "log.h"
#include "stages.h"
#include "mounts.h"

/* The binds stage: each persistent path gets its state dir, seeded from the
 * image (seed.c), bound over it. */

static int reopen_dir(int opath_fd, int *ret) {
        *ret = openat(opath_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

static int apply_bind(const struct plan *p, const struct plan_bind *bd, struct boot *b) {
        _cleanup_close_ int tfd = -1, sfd = -1, tdir = -1, sdir = -1;
        _cleanup_free_ char *why = NULL;
        struct stat tst, sst;
        bool created;
        int r;

        if ((r = root_mkdir_p(b->root_fd, bd->path, RESOLVE_TARGET, NULL, &tfd, &created, &why)) < 0)
                return boot_fail(b, r, "persistent path %s: %s", bd->path, why);
        if (fstat(tfd, &tst) < 0)
                return boot_fail(b, -errno, "persistent path %s: %s", bd->path, strerror(errno));
        if (created)
                log_debug("persistent path %s: created (not in the image)", bd->path);
        /* The state dir is data the final OS writes: no symlink at all. */
        if ((r = root_mkdir_p(b->root_fd, bd->state, RESOLVE_STRICT, &tst, &sfd, NULL, &why)) < 0)
                return boot_fail(b, r, "persistent path %s: state dir %s", bd->path, why);
        if (fstat(sfd, &sst) < 0)
                return boot_fail(b, -errno, "persistent path %s: %s", bd->state, strerror(errno));

        /* A second run: the target already shows the state dir. */
        if (tst.st_dev == sst.st_dev && tst.st_ino == sst.st_ino)
                return boot_add_mount(b, STAGE_BINDS, bd->state, bd->path, "bind", "bind", true);

        struct seed_stats stats;
        if ((r = reopen_dir(tfd, &tdir)) < 0 || (r = reopen_dir(sfd, &sdir)) < 0)
                return boot_fail(b, r, "persistent path %s: cannot open: %s", bd->path, strerror(-r));
        /* Before the work, so that whoever reads the console of a boot that
         * stopped here (a power cut) knows which path was being seeded. A
         * path the image lacks has nothing to seed: no line for it. */
        if (!created)
                log_info("persistent path %s: seeding %s%s from the image", bd->path, b->root, bd->state);
        if ((r = seed_tree(tdir, sdir, p->seed, &stats, &why)) < 0)
                return boot_fail(b, r, "persistent path %s: seeding %s%s from the image failed: %s", bd->path, b->root,
                                 bd->state, why);
        log_debug("persistent path %s: seeded %s (%u new, %u replaced, %u kept)", bd->path, bd->state,
                  stats.copied, stats.replaced, stats.kept);
        if ((r = mount_bind_fd(sfd, tfd, &why)) < 0)
                return boot_fail(b, r, "persistent path %s: cannot bind %s%s: %s", bd->path, b->root, bd->state, why);
        return boot_add_mount(b, STAGE_BINDS, bd->state, bd->path, "bind", "bind", false);
}

int stage_binds(const struct plan *p, struct boot *b) {
        for (size_t i = 0; i < p->n_binds; i++) {
                int r = apply_bind(p, &p->binds[i], b);
                if (r < 0)
                        return r;
        }
        return 0;
}
