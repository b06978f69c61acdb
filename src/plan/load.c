/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>

#include "load.h"
#include "log.h"
#include "safe-open.h"
#include "why.h"

static int yaml_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && streq(d->d_name + n - 5, ".yaml");
}

/* One file of /oem, read as safe_read_at() allows. /oem is written by
 * whoever holds the disk, and its files are optional: one that is missing,
 * or refused (a FIFO, a device, a symlink, too large), is left out and the
 * boot goes on; a refusal is kept in `skipped` to become a warning. */
static int load_oem_file(struct config *c, int dir_fd, const char *dir, const char *name, bool kairos,
                         strv *errors, strv *skipped) {
        _cleanup_free_ char *path = path_join(dir, name);
        _cleanup_free_ char *text = NULL;
        char note[WHY_MAX + 64];
        _cleanup_free_ char *why = NULL;
        size_t len = 0;
        int r;

        if (!path)
                return -ENOMEM;
        r = safe_read_at(dir_fd, dir, name, SAFE_CONFIG_MAX, &text, &len, &why);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(note, sizeof note, "config: %s; booting on without it", why);
                return strv_push(skipped, note);
        }
        return (kairos ? config_load_kairos_string : config_load_string)(c, path, text, len, errors);
}

/* The node's own config on /oem: usi-init's file, then the install.* keys of
 * the Kairos cloud-configs beside it, in lexical order. */
static int load_oem(struct config *c, const char *root, strv *errors, strv *skipped) {
        _cleanup_free_ char *dir = path_join(root, "/oem");
        _cleanup_close_ int dir_fd = -1;
        struct dirent **names = NULL;
        int n, r, ret = 0;

        if (!dir)
                return -ENOMEM;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return 0;
        r = load_oem_file(c, dir_fd, dir, "usi-init.yaml", false, errors, skipped);
        if (r < 0)
                ret = r;

        n = scandirat(dir_fd, ".", &names, yaml_filter, alphasort);
        if (n < 0)
                return ret;
        for (int i = 0; i < n; i++) {
                if (!streq(names[i]->d_name, "usi-init.yaml")) {
                        r = load_oem_file(c, dir_fd, dir, names[i]->d_name, true, errors, skipped);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
                free(names[i]);
        }
        free(names);
        return ret;
}

/* rd.usi.config= names a file of the initrd, which the UKI signs with the
 * command line; a file on a volume (/oem above all) is the node's own, read
 * only as the /oem layer, once that volume is mounted. NULL: the initrd's. */
static const struct config_volume *config_on_volume(const struct config *c, const char *path) {
        for (size_t i = 0; i < c->n_volumes; i++)
                if (c->volumes[i].mount.path && path_startswith(path, c->volumes[i].mount.path))
                        return &c->volumes[i];
        return NULL;
}

/* The file rd.usi.config= names, beneath the root: openat2(RESOLVE_BENEATH)
 * through safe_read_at(), so no symlinked directory of the root leads out of
 * it, and a refusal names the file without a line of its content. */
static int load_beneath_root(struct config *c, const char *root, const char *norm, const char *given, strv *errors) {
        const char *shown_root = *root ? root : "/";
        _cleanup_free_ char *path = path_join(root, norm), *text = NULL, *why = NULL;
        _cleanup_close_ int root_fd = -1;
        size_t len = 0;
        int r;

        if (!path)
                return -ENOMEM;
        root_fd = open(shown_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return config_error(errors, &(struct mark) { given, 0, 0 }, "rd.usi.config: cannot open the root %s: %m",
                                    shown_root);
        r = safe_read_at(root_fd, shown_root, norm + strspn(norm, "/"), SAFE_CONFIG_MAX, &text, &len, &why);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return config_error(errors, &(struct mark) { given, 0, 0 }, "rd.usi.config: cannot read: no such file");
        if (r < 0)
                return config_error(errors, &(struct mark) { given, 0, 0 }, "rd.usi.config: %s", why_or(why));
        return config_load_string(c, path, text, len, errors);
}

static int load_cmdline_config(struct config *c, const char *root, const char *given, bool oem, strv *errors) {
        _cleanup_free_ char *norm = NULL;
        const struct config_volume *v;
        const char *why = NULL;
        int r;

        r = path_normalize(given, PATH_FILE, &norm, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return config_error(errors, &(struct mark) { given, 0, 0 }, "rd.usi.config: %s", why);
        v = config_on_volume(c, norm);
        if (v || path_startswith(norm, "/oem")) {
                if (!oem) {
                        log_info("rd.usi.config=%s is on volume %s: read with /oem's configuration, which may set "
                                 "only the layout", norm, v ? v->name : "oem");
                        return 0;
                }
                c->layer = CONFIG_LAYER_OEM;
        } else
                c->layer = CONFIG_LAYER_CMDLINE;
        return load_beneath_root(c, root, norm, given, errors);
}

int plan_load(const struct plan_inputs *in, bool oem, struct cmdline *cl, struct plan *p, strv *errors) {
        struct config c;
        const char *root = in->root ? in->root : "";
        size_t before = errors->n;
        strv skipped = {};
        int r;

        r = cmdline_parse(in->cmdline, cl);
        if (r < 0)
                return r;
        /* rd.usi.debug (or rd.immucore.debug) raises the level for the whole run. */
        if (cl->debug)
                log_set_level(LOG_LEVEL_DEBUG);

        config_init(&c);
        c.layer = CONFIG_LAYER_IMAGE;
        r = config_load_defaults(&c, errors);
        if (r < 0)
                goto out;

        if (in->config_files.n > 0) {
                for (size_t i = 0; i < in->config_files.n; i++) {
                        r = config_load_file(&c, in->config_files.v[i], errors);
                        if (r == -ENOENT)
                                config_error(errors, &(struct mark) { in->config_files.v[i], 0, 0 },
                                             "cannot read: no such file");
                        if (r == -ENOMEM)
                                goto out;
                }
        } else {
                r = config_load_system(&c, root, errors);
                if (r == -ENOMEM)
                        goto out;
        }

        if (cl->config && (r = load_cmdline_config(&c, root, cl->config, oem, errors)) == -ENOMEM)
                goto out;

        c.layer = CONFIG_LAYER_OEM;
        if (oem && (r = load_oem(&c, root, errors, &skipped)) == -ENOMEM)
                goto out;

        for (size_t i = 1; i < c.files.n; i++)
                log_debug("configuration read from %s", c.files.v[i]);
        if (errors->n > before) {
                r = -EINVAL;
                goto out;
        }
        r = plan_build_on(&c, cl, &in->facts, p, errors);
        for (size_t i = 0; r >= 0 && i < skipped.n; i++)
                r = strv_push(&p->notes, skipped.v[i]);
out:
        strv_clear(&skipped);
        config_done(&c);
        if (r >= 0 && errors->n > before)
                r = -EINVAL;
        return r;
}
