/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libkmod.h>
#include <libudev.h>
#include <sys/stat.h>

#include "log.h"
#include "stages.h"
#include "modules.h"

size_t modules_for_plan(const struct plan *p, struct module_need *ret, size_t max) {
        bool crypt = false, tpm = false;
        size_t n = 0;

        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                if (v->encrypted == ENCRYPTION_NO)
                        continue;
                crypt = true;
                for (size_t j = 0; j < v->n_unlock; j++)
                        tpm = tpm || v->unlock[j] == UNLOCK_TPM2;
        }

#define NEED(m, req, w) do { if (n < max) ret[n++] = (struct module_need) { m, req, w }; } while (0)
        if (tpm) {
                /* Which one the machine has is not known here: all are optional. */
                NEED("tpm_crb", false, "the TPM (CRB interface)");
                NEED("tpm_tis", false, "the TPM (TIS interface)");
        }
        if (crypt) {
                /* Optional here even for required encrypted volumes: the devices
                 * stage must still get to say what a device carries (a plain
                 * file system where LUKS2 belongs is the finding that matters),
                 * and the unlock stage fails by name if it cannot map. */
                NEED("dm_mod", false, "device-mapper for encrypted volumes");
                NEED("dm_crypt", false, "dm-crypt for encrypted volumes");
        }
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].mount && !streq(p->volumes[i].fstype, "auto"))
                        NEED(p->volumes[i].fstype, p->volumes[i].required, "the file system of a volume");
        /* "auto" volumes: Kairos formats its partitions ext4. */
        NEED("ext4", false, "the default file system of volumes");
        if (p->overlay_paths.n > 0)
                NEED("overlay", true, "the ephemeral paths (overlayfs)");
#undef NEED
        return n;
}

/* Storage by PCI class 01 (mass storage), virtio transport (vendor 1af4) and
 * virtio block/SCSI, USB mass storage (interface class 08), SCSI disks, MMC,
 * NVMe. Everything else is the final OS's business. */
bool modalias_is_storage(const char *modalias, const char *pci_class) {
        const char *s;

        if (!modalias)
                return false;
        if ((s = startswith(modalias, "pci:"))) {
                if (pci_class && startswith(pci_class, "0x01"))
                        return true;
                return startswith(s, "v00001AF4") != NULL;
        }
        if ((s = startswith(modalias, "virtio:")))
                return startswith(s, "d00000002") || startswith(s, "d00000008");
        if ((s = startswith(modalias, "usb:")))
                return strstr(s, "ic08") != NULL;
        return startswith(modalias, "scsi:") || startswith(modalias, "mmc:") || startswith(modalias, "nvme:");
}

static void kmod_unrefp(struct kmod_ctx **c) {
        if (*c)
                kmod_unref(*c);
}

static void kmod_list_freep(struct kmod_list **l) {
        if (*l)
                kmod_module_unref_list(*l);
}

/* Built in, or a file system the kernel already has. */
static bool present(const char *name) {
        char path[256];
        struct stat st;

        snprintf(path, sizeof path, "/sys/module/%s", name);
        if (stat(path, &st) == 0)
                return true;
        _cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
                char *t = strrchr(line, '\t');
                t = t ? t + 1 : line;
                t[strcspn(t, "\n")] = '\0';
                if (streq(t, name))
                        return true;
        }
        return false;
}

/* Load everything an alias (a name or a modalias) resolves to. 1 loaded or
 * present, 0 nothing known, negative on a failed insert. */
static int load_alias(struct kmod_ctx *ctx, const char *alias, strv *loaded, char *err, size_t err_size) {
        _cleanup_(kmod_list_freep) struct kmod_list *list = NULL;
        struct kmod_list *it;
        int found = 0;

        if (!ctx || kmod_module_new_from_lookup(ctx, alias, &list) < 0 || !list)
                return 0;
        kmod_list_foreach(it, list) {
                struct kmod_module *m = kmod_module_get_module(it);
                const char *name = kmod_module_get_name(m);
                int state = kmod_module_get_initstate(m);
                int r = 0;

                if (state != KMOD_MODULE_BUILTIN && state != KMOD_MODULE_LIVE) {
                        r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
                        if (r == 0 && !strv_contains(loaded, name) && strv_push(loaded, name) < 0)
                                r = -ENOMEM;
                }
                if (r < 0)
                        snprintf(err, err_size, "%s: %s", name, strerror(-r));
                kmod_module_unref(m);
                if (r < 0)
                        return r;
                found = 1;
        }
        return found;
}

int modules_load(struct boot *b, const char *dirname, const struct module_need *needs, size_t n) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = kmod_new(dirname, NULL);
        int r;

        if (ctx)
                (void) kmod_load_resources(ctx);
        for (size_t i = 0; i < n; i++) {
                const struct module_need *m = &needs[i];
                char err[512] = "";

                r = load_alias(ctx, m->name, &b->modules_loaded, err, sizeof err);
                if (r > 0 || (r == 0 && present(m->name)))
                        continue;
                if (r == -ENOMEM)
                        return r;
                if (m->required)
                        return boot_fail(b, r < 0 ? r : -ENOENT, "modules: required module %s (for %s) %s",
                                         m->name, m->why, r < 0 ? err : "is neither built in nor installed");
                if (!strv_contains(&b->modules_missing, m->name) && (r = strv_push(&b->modules_missing, m->name)) < 0)
                        return r;
                if ((r = boot_warn(b, "modules: optional module %s (for %s) %s", m->name, m->why,
                                   err[0] ? err : "is neither built in nor installed")) < 0)
                        return r;
        }
        return 0;
}

int modules_hotplug(struct boot *b, struct kmod_ctx **ctx, const char *modalias, const char *pci_class) {
        char err[512] = "";

        if (!modalias_is_storage(modalias, pci_class))
                return 0;
        if (!*ctx) {
                *ctx = kmod_new(NULL, NULL);
                if (!*ctx || kmod_load_resources(*ctx) < 0)
                        return 0;       /* no module index: everything is built in */
        }
        if (load_alias(*ctx, modalias, &b->modules_loaded, err, sizeof err) < 0)
                return boot_warn(b, "modules: storage driver for %s: %s", modalias, err);
        return 0;
}

void modules_ctx_free(struct kmod_ctx **ctx) {
        kmod_unrefp(ctx);
        *ctx = NULL;
}

static void udev_unrefp(struct udev **u) {
        if (*u)
                udev_unref(*u);
}

/* One pass over /sys: load the drivers of storage devices. Loading a bus
 * driver (virtio_pci) makes new devices (virtio block), hence the caller's
 * repeat until a pass loads nothing. Returns how many were loaded. */
static int coldplug_pass(struct kmod_ctx *ctx, struct udev *udev, struct boot *b) {
        struct udev_enumerate *e = udev_enumerate_new(udev);
        struct udev_list_entry *item;
        size_t before = b->modules_loaded.n;

        if (!e)
                return -ENOMEM;
        if (udev_enumerate_add_match_sysattr(e, "modalias", NULL) < 0 || udev_enumerate_scan_devices(e) < 0) {
                udev_enumerate_unref(e);
                return 0;
        }
        udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
                struct udev_device *dev = udev_device_new_from_syspath(udev, udev_list_entry_get_name(item));
                if (!dev)
                        continue;
                const char *alias = udev_device_get_sysattr_value(dev, "modalias");
                const char *cls = udev_device_get_sysattr_value(dev, "class");
                char err[512] = "";
                if (modalias_is_storage(alias, cls) && load_alias(ctx, alias, &b->modules_loaded, err, sizeof err) < 0)
                        (void) boot_warn(b, "modules: storage driver for %s: %s", alias, err);
                udev_device_unref(dev);
        }
        udev_enumerate_unref(e);
        return (int) (b->modules_loaded.n - before);
}

int stage_modules(const struct plan *p, struct boot *b) {
        struct module_need needs[16];
        size_t n = modules_for_plan(p, needs, ELEMENTSOF(needs));
        int r;

        if ((r = modules_load(b, NULL, needs, n)) < 0)
                return r;

        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = kmod_new(NULL, NULL);
        _cleanup_(udev_unrefp) struct udev *udev = udev_new();
        if (!ctx || !udev || kmod_load_resources(ctx) < 0) {
                log_debug("modules: no module index for the running kernel; storage coldplug skipped");
                return 0;
        }
        for (int pass = 0; pass < 4; pass++)
                if ((r = coldplug_pass(ctx, udev, b)) <= 0)
                        return r;
        return 0;
}
