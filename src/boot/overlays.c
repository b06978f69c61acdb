/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>

#include "root-fs.h"
#include "log.h"
#include "stages.h"
#include "mounts.h"
#include "overlays.h"

int overlay_dirs(const char *path, char **ret_upper, char **ret_work) {
        if (asprintf(ret_upper, "%s%s/.overlay/upper", PLAN_OVERLAY_BASE, path) < 0)
                return -ENOMEM;
        if (asprintf(ret_work, "%s%s/.overlay/work", PLAN_OVERLAY_BASE, path) < 0) {
                free(*ret_upper);
                return -ENOMEM;
        }
        return 0;
}

/* overlayfs splits its options on ',' and its layers on ':'; a path with
 * either (or a backslash) cannot be said safely. */
static bool option_safe(const char *s) {
        return !strpbrk(s, ",:\\");
}

static int mount_base(const struct plan *p, struct boot *b) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *opts = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        if ((r = root_mkdir_p(b->root_fd, PLAN_OVERLAY_BASE, RESOLVE_TARGET, NULL, &fd, NULL, &why)) < 0)
                return boot_fail(b, r, "overlays: %s", why);
        if (asprintf(&opts, "size=%s,mode=0755,nosuid,nodev", p->overlay_size) < 0)
                return -ENOMEM;
        bool existed = fd_is_mount_of(fd, TMPFS_MAGIC);
        if (!existed && (r = mount_on_fd("tmpfs", fd, "tmpfs", opts, &why)) < 0)
                return boot_fail(b, r, "overlays: cannot mount a tmpfs (size %s) on %s%s: %s", p->overlay_size, b->root,
                                 PLAN_OVERLAY_BASE, why);
        return boot_add_mount(b, STAGE_OVERLAYS, "tmpfs", PLAN_OVERLAY_BASE, "tmpfs", opts, existed);
}

static int mount_overlay(struct boot *b, const char *path) {
        _cleanup_free_ char *upper = NULL, *work = NULL, *opts = NULL;
        _cleanup_close_ int fd = -1, ufd = -1, wfd = -1;
        _cleanup_free_ char *why = NULL;
        struct stat st;
        int r;

        /* The image's directory is the lower layer; one it lacks is made
         * empty, root's and 0755, like any missing mount point. */
        if ((r = root_mkdir_p(b->root_fd, path, RESOLVE_TARGET, NULL, &fd, NULL, &why)) < 0)
                return boot_fail(b, r, "overlay %s: %s", path, why);
        if (fd_is_mount_of(fd, OVERLAYFS_SUPER_MAGIC))
                return boot_add_mount(b, STAGE_OVERLAYS, "overlay", path, "overlay", "", true);
        if (fstat(fd, &st) < 0)
                return boot_fail(b, -errno, "overlay %s: %s", path, strerror(errno));

        if ((r = overlay_dirs(path, &upper, &work)) < 0)
                return r;
        /* The upper dir's owner and mode are what the merged root shows:
         * take the image's. */
        if ((r = root_mkdir_p(b->root_fd, upper, RESOLVE_STRICT, &st, &ufd, NULL, &why)) < 0 ||
            (r = root_mkdir_p(b->root_fd, work, RESOLVE_STRICT, NULL, &wfd, NULL, &why)) < 0)
                return boot_fail(b, r, "overlay %s: %s", path, why);

        const char *root = b->root;
        if (!option_safe(root) || !option_safe(path))
                return boot_fail(b, -EINVAL, "overlay %s%s: the path contains ',', ':' or '\\', which overlayfs options cannot carry",
                                 root, path);
        if (asprintf(&opts, "lowerdir=%s%s,upperdir=%s%s,workdir=%s%s", root, path, root, upper, root, work) < 0)
                return -ENOMEM;
        if ((r = mount_on_fd("overlay", fd, "overlay", opts, &why)) < 0)
                return boot_fail(b, r, "overlay %s%s: cannot mount (%s): %s", root, path, opts, why);
        log_info("overlay %s: ephemeral, upper %s", path, upper);
        return boot_add_mount(b, STAGE_OVERLAYS, "overlay", path, "overlay", opts, false);
}

int stage_overlays(const struct plan *p, struct boot *b) {
        int r;

        if (p->overlay_paths.n == 0)
                return 0;
        if ((r = mount_base(p, b)) < 0)
                return r;
        for (size_t i = 0; i < p->overlay_paths.n; i++)
                if ((r = mount_overlay(b, p->overlay_paths.v[i])) < 0)
                        return r;
        return 0;
}
