/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <blkid.h>
#include <fcntl.h>
#include <libudev.h>
#include <poll.h>
#include <stdarg.h>
#include <strings.h>
#include <time.h>

#include "devices.h"
#include "log.h"
#include "stages.h"
#include "modules.h"

/* ---- probing ------------------------------------------------------------ */

void probed_done(struct probed *p) {
        free(p->devnode);
        free(p->syspath);
        free(p->type);
        free(p->version);
        free(p->uuid);
        free(p->label);
        free(p->partuuid);
        free(p->partlabel);
        *p = (struct probed) {};
}

void probed_free_array(struct probed *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                probed_done(&v[i]);
        free(v);
}

static int dup_field(char **dst, const char *src) {
        *dst = NULL;
        return src && !(*dst = strdup(src)) ? -ENOMEM : 0;
}

int probed_copy(struct probed *dst, const struct probed *src) {
        struct probed n = { .content = src->content };

        if (dup_field(&n.devnode, src->devnode) < 0 || dup_field(&n.syspath, src->syspath) < 0 ||
            dup_field(&n.type, src->type) < 0 || dup_field(&n.version, src->version) < 0 ||
            dup_field(&n.uuid, src->uuid) < 0 || dup_field(&n.label, src->label) < 0 ||
            dup_field(&n.partuuid, src->partuuid) < 0 || dup_field(&n.partlabel, src->partlabel) < 0) {
                probed_done(&n);
                return -ENOMEM;
        }
        *dst = n;
        return 0;
}

static const char *const content_names[] = {
        [CONTENT_NONE] = "nothing recognisable",
        [CONTENT_LUKS2] = "LUKS2",
        [CONTENT_LUKS1] = "LUKS1",
        [CONTENT_FS] = "a plain file system",
        [CONTENT_OTHER] = "other",
};

const char *content_to_string(enum content c) {
        return c < ELEMENTSOF(content_names) ? content_names[c] : NULL;
}

int probed_describe(const struct probed *p, char *buf, size_t size) {
        int n;

        switch (p->content) {
        case CONTENT_LUKS2:
        case CONTENT_LUKS1:
                n = snprintf(buf, size, "%s", content_to_string(p->content));
                break;
        case CONTENT_NONE:
                n = snprintf(buf, size, "no recognisable signature");
                break;
        default:
                n = snprintf(buf, size, "%s%s", p->type ? p->type : "unknown",
                             p->content == CONTENT_FS ? " file system" : "");
        }
        if (p->label && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, " label %s", p->label);
        if (p->uuid && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, " uuid %s", p->uuid);
        if (p->partlabel && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, " partition name %s", p->partlabel);
        return n;
}

/* blkid's TYPE to what the trust chain cares about. */
static enum content classify(const char *type, const char *version, const char *usage) {
        if (!type)
                return CONTENT_NONE;
        if (streq(type, "crypto_LUKS"))
                return version && streq(version, "2") ? CONTENT_LUKS2 : CONTENT_LUKS1;
        if (usage && streq(usage, "filesystem"))
                return CONTENT_FS;
        return CONTENT_OTHER;
}

static int lookup(blkid_probe pr, const char *name, char **ret) {
        const char *v = NULL;

        *ret = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) < 0 || !v)
                return 0;
        return (*ret = strdup(v)) ? 0 : -ENOMEM;
}

/* Superblocks (and the partition entry, for a partition device) of an opened
 * probe. */
static int probe_fill(blkid_probe pr, bool partition_entry, struct probed *d) {
        _cleanup_free_ char *usage = NULL;
        int r;

        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE |
                                              BLKID_SUBLKS_VERSION | BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, partition_entry);
        if (partition_entry)
                blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);

        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                /* Two signatures at once: never guess which one is meant. */
                d->content = CONTENT_OTHER;
                return (d->type = strdup("ambiguous (several signatures)")) ? 0 : -ENOMEM;
        }
        if (r < 0)
                return -EIO;
        if ((r = lookup(pr, "TYPE", &d->type)) < 0 || (r = lookup(pr, "VERSION", &d->version)) < 0 ||
            (r = lookup(pr, "UUID", &d->uuid)) < 0 || (r = lookup(pr, "LABEL", &d->label)) < 0 ||
            (r = lookup(pr, "USAGE", &usage)) < 0)
                return r;
        if (partition_entry &&
            ((r = lookup(pr, "PART_ENTRY_UUID", &d->partuuid)) < 0 || (r = lookup(pr, "PART_ENTRY_NAME", &d->partlabel)) < 0))
                return r;
        d->content = classify(d->type, d->version, usage);
        return 0;
}

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

int probe_device(const char *devnode, struct probed *ret) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_close_ int fd = -1;
        struct probed d = {};
        int r;

        fd = open(devnode, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        if (!(d.devnode = strdup(devnode)))
                return -ENOMEM;
        r = probe_fill(pr, true, &d);
        if (r < 0) {
                probed_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int probe_image_partitions(const char *file, struct probed **ret, size_t *ret_n) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        struct probed *v = NULL;
        size_t n = 0;
        int r = 0;

        if (fd < 0)
                return -errno;
        if (!(pr = blkid_new_probe()) || blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        blkid_probe_enable_superblocks(pr, 0);
        blkid_probe_enable_partitions(pr, 1);
        blkid_partlist pl = blkid_probe_get_partitions(pr);
        int np = pl ? blkid_partlist_numof_partitions(pl) : 0;
        if (np <= 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        v = calloc((size_t) np, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (int i = 0; i < np; i++) {
                blkid_partition part = blkid_partlist_get_partition(pl, i);
                _cleanup_(blkid_free_probep) blkid_probe sub = blkid_new_probe();
                struct probed *d = &v[n++];
                const char *name = blkid_partition_get_name(part), *uuid = blkid_partition_get_uuid(part);

                if (!sub || blkid_probe_set_device(sub, fd, blkid_partition_get_start(part) * 512,
                                                   blkid_partition_get_size(part) * 512) < 0) {
                        r = -EIO;
                        break;
                }
                if (asprintf(&d->devnode, "%s:p%d", file, blkid_partition_get_partno(part)) < 0) {
                        d->devnode = NULL;
                        r = -ENOMEM;
                        break;
                }
                if ((r = probe_fill(sub, false, d)) < 0 || (r = dup_field(&d->partlabel, name)) < 0 ||
                    (r = dup_field(&d->partuuid, uuid)) < 0)
                        break;
        }
        if (r < 0) {
                probed_free_array(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- matching and the trust-chain rules ---------------------------------- */

bool probed_matches(const struct probed *d, const struct plan_match *m) {
        switch (m->kind) {
        case MATCH_UUID:
                return d->uuid && strcasecmp(d->uuid, m->value) == 0;
        case MATCH_PARTUUID:
                return d->partuuid && strcasecmp(d->partuuid, m->value) == 0;
        case MATCH_LUKS_LABEL:
        case MATCH_FS_LABEL:
                return d->label && streq(d->label, m->value);
        case MATCH_PARTLABEL:
                return d->partlabel && streq(d->partlabel, m->value);
        default:
                return false;
        }
}

void volume_describe_matches(const struct plan_volume *v, char *buf, size_t size) {
        buf[0] = '\0';
        for (size_t i = 0; i < v->n_matches; i++) {
                size_t l = strlen(buf);
                snprintf(buf + l, size - l, "%s%s %s", i == 0 ? "" : i + 1 == v->n_matches ? " or " : ", ",
                         match_kind_to_string(v->matches[i].kind), v->matches[i].value);
        }
}

/* The first match of the volume (in plan order) this device satisfies;
 * pinned volumes accept only their UUID/PARTUUID. -1: none. */
static int first_match(const struct plan_volume *v, const struct probed *d) {
        bool luks = d->content == CONTENT_LUKS2 || d->content == CONTENT_LUKS1;

        /* Name the match that fits what is there (a LUKS label on LUKS, a file
         * system label on a file system) before one that only shares the
         * label: the device is a carrier either way. */
        for (int loose = 0; loose < 2; loose++)
                for (size_t i = 0; i < v->n_matches; i++) {
                        const struct plan_match *m = &v->matches[i];
                        if (v->pinned && m->kind != MATCH_UUID && m->kind != MATCH_PARTUUID)
                                continue;
                        if (!loose && ((m->kind == MATCH_LUKS_LABEL && !luks) || (m->kind == MATCH_FS_LABEL && luks)))
                                continue;
                        if (probed_matches(d, m))
                                return (int) i;
                }
        return -1;
}

/* Trust-chain rule 2's sentence, and the two devices for the banner. */
static void describe_duplicate(const struct plan_volume *v, const struct probed *first, const struct probed *second,
                               struct resolve_out *out) {
        char a[256], b[256];

        probed_describe(first, a, sizeof a);
        probed_describe(second, b, sizeof b);
        snprintf(out->device, sizeof out->device, "%s and %s (volume %s)", first->devnode, second->devnode, v->name);
        snprintf(out->why, sizeof out->why,
                 "volume %s: two devices match it, %s (%s) and %s (%s); refusing both, a duplicate is how a planted disk shows itself (pin the volume by uuid or partuuid to choose one)",
                 v->name, first->devnode, a, second->devnode, b);
}

_printf_(4, 5) static enum resolve_result refuse(struct resolve_out *out, const struct plan_volume *v,
                                                const struct probed *d, const char *fmt, ...) {
        va_list ap;

        snprintf(out->device, sizeof out->device, "%s (volume %s)", d->devnode, v->name);
        va_start(ap, fmt);
        vsnprintf(out->why, sizeof out->why, fmt, ap);
        va_end(ap);
        return RESOLVE_REFUSED;
}

enum resolve_result volume_resolve(const struct plan *p, const struct plan_volume *v,
                                   const struct probed *seen, size_t n_seen, struct resolve_out *out) {
        size_t hit = SIZE_MAX;
        int mi = -1;

        for (size_t i = 0; i < n_seen; i++) {
                int k = first_match(v, &seen[i]);
                if (k < 0)
                        continue;
                if (hit != SIZE_MAX && !streq(seen[hit].devnode, seen[i].devnode)) {
                        describe_duplicate(v, &seen[hit], &seen[i], out);
                        return RESOLVE_REFUSED;
                }
                hit = i;
                mi = k;
        }
        if (hit == SIZE_MAX)
                return RESOLVE_NOT_YET;

        const struct probed *d = &seen[hit];
        char what[256];
        probed_describe(d, what, sizeof what);
        out->index = hit;
        out->kind = v->matches[mi].kind;

        switch (d->content) {
        case CONTENT_LUKS2:
                if (v->encrypted == ENCRYPTION_NO)
                        return refuse(out, v, d, "volume %s: %s carries %s, but the volume is declared not encrypted; refusing it",
                                      v->name, d->devnode, what);
                return RESOLVE_FOUND;
        case CONTENT_LUKS1:
                return refuse(out, v, d, "volume %s: %s carries %s; refusing it, only LUKS2 opened through the trust chain is accepted",
                              v->name, d->devnode, what);
        case CONTENT_FS:
                if (volume_needs_crypt(p, v))
                        return refuse(out, v, d,
                                      "volume %s: %s carries %s where an encrypted volume is expected; refusing it, it is only mounted through a dm-crypt mapping usi-init opened",
                                      v->name, d->devnode, what);
                return RESOLVE_FOUND;
        default:
                return refuse(out, v, d, "volume %s: %s carries %s, neither LUKS2 nor a file system; refusing it",
                              v->name, d->devnode, what);
        }
}

bool volume_duplicate(const struct plan_volume *v, const struct probed *found, const struct probed *d,
                      struct resolve_out *out) {
        if (streq(found->devnode, d->devnode) || first_match(v, d) < 0)
                return false;
        describe_duplicate(v, found, d, out);
        return true;
}

/* ---- the stage: coldplug, then kernel uevents until every deadline ------- */

struct seen_list {
        struct probed *v;
        size_t n;
};

static void seen_done(struct seen_list *s) {
        probed_free_array(s->v, s->n);
        *s = (struct seen_list) {};
}

static void seen_remove(struct seen_list *s, const char *devnode) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i].devnode, devnode)) {
                        probed_done(&s->v[i]);
                        s->v[i] = s->v[--s->n];
                        return;
                }
}

static int seen_put(struct seen_list *s, struct probed *d) {
        seen_remove(s, d->devnode);
        struct probed *nv = realloc(s->v, (s->n + 1) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        s->v = nv;
        s->v[s->n++] = *d;
        *d = (struct probed) {};
        return 0;
}

/* Mappings cryptsetup opened (ours) carry the same file system label as the
 * LUKS device under them; they are never candidates. */
static bool is_crypt_mapping(struct udev_device *dev) {
        const char *u = udev_device_get_sysattr_value(dev, "dm/uuid");
        return u && startswith(u, "CRYPT-");
}

static int handle_device(struct seen_list *s, struct udev_device *dev) {
        const char *node = udev_device_get_devnode(dev), *action = udev_device_get_action(dev);
        const char *size = udev_device_get_sysattr_value(dev, "size");
        struct probed d = {};
        int r;

        if (!node)
                return 0;
        if ((action && streq(action, "remove")) || (size && streq(size, "0")) || is_crypt_mapping(dev)) {
                seen_remove(s, node);
                return 0;
        }
        r = probe_device(node, &d);
        if (r < 0) {
                /* A device that vanished is simply not a candidate. */
                log_debug("devices: cannot probe %s: %s", node, strerror(-r));
                seen_remove(s, node);
                if (r == -ENOENT || r == -ENXIO || r == -ENODEV || r == -ENOMEDIUM || r == -ENOMEM)
                        return 0;
                /* One that is there but unreadable (an I/O error) stays among
                 * what was seen, never matching a volume: a volume that never
                 * shows up is then explained by the device it may be on. */
                log_warn("devices: cannot read %s: %s", node, strerror(-r));
                d = (struct probed) { .content = CONTENT_OTHER };
                if (!(d.devnode = strdup(node)) || asprintf(&d.type, "unreadable: %s", strerror(-r)) < 0) {
                        d.type = NULL;
                        probed_done(&d);
                        return -ENOMEM;
                }
                return seen_put(s, &d);
        }
        const char *sp = udev_device_get_syspath(dev);
        if (sp && !(d.syspath = strdup(sp))) {
                probed_done(&d);
                return -ENOMEM;
        }
        char what[256];
        probed_describe(&d, what, sizeof what);
        log_debug("devices: %s%s%s: %s", node, action ? " " : "", strempty(action), what);
        return seen_put(s, &d);
}

static int coldplug(struct udev *udev, struct seen_list *s) {
        struct udev_enumerate *e = udev_enumerate_new(udev);
        struct udev_list_entry *item;
        int r = 0;

        if (!e)
                return -ENOMEM;
        if (udev_enumerate_add_match_subsystem(e, "block") < 0 || udev_enumerate_scan_devices(e) < 0) {
                udev_enumerate_unref(e);
                return -EIO;
        }
        udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
                struct udev_device *dev = udev_device_new_from_syspath(udev, udev_list_entry_get_name(item));
                if (!dev)
                        continue;
                r = handle_device(s, dev);
                udev_device_unref(dev);
                if (r < 0)
                        break;
        }
        udev_enumerate_unref(e);
        return r;
}

static void describe_seen(const struct seen_list *s, char *buf, size_t size) {
        buf[0] = '\0';
        for (size_t i = 0; i < s->n; i++) {
                char what[256];
                size_t l = strlen(buf);
                if (s->v[i].content == CONTENT_NONE)
                        continue;
                probed_describe(&s->v[i], what, sizeof what);
                snprintf(buf + l, size - l, "%s%s (%s)", l ? ", " : "", s->v[i].devnode, what);
        }
        if (!buf[0])
                snprintf(buf, size, "no block device with a recognisable signature");
}

struct pending {
        const struct plan_volume *v;
        uint64_t deadline;
        bool done;
};

/* Record a found volume in struct boot. */
static int take(struct boot *b, const struct plan_volume *v, const struct probed *d, enum match_kind kind) {
        struct boot_volume *bv = boot_volume_get(b, v->name);
        char what[256];
        int r;

        if (!bv)
                return -ENOMEM;
        probed_done(&bv->dev);
        if ((r = probed_copy(&bv->dev, d)) < 0)
                return r;
        bv->found = true;
        bv->found_by = kind;
        bv->found_ms = boot_elapsed_ms(b);
        bv->found_at_ms = clock_usec(CLOCK_BOOTTIME) / 1000u;
        /* A plain volume is mountable as is; a LUKS2 one only once the unlock
         * stage put its mapping here. */
        if (d->content == CONTENT_FS) {
                if (free_and_strdup(&bv->mount_device, d->devnode) < 0 || free_and_strdup(&bv->mount_fstype, d->type) < 0)
                        return -ENOMEM;
        }
        probed_describe(d, what, sizeof what);
        log_info("volume %s: found %s (%s) by %s after %llu ms", v->name, d->devnode, what,
                 match_kind_to_string(kind), (unsigned long long) bv->found_ms);
        return 0;
}

/* ---- the uevent watch: from the first devices stage to the hand-off ----- */

struct device_watch {
        struct udev *udev;
        struct udev_monitor *mon;
};

void devices_release(struct boot *b) {
        struct device_watch *w = b->watch;

        if (!w)
                return;
        if (w->mon)
                udev_monitor_unref(w->mon);
        if (w->udev)
                udev_unref(w->udev);
        free(w);
        b->watch = NULL;
}

/* Straight from the kernel: there is no udevd in the initrd, and its events
 * would come late even if there were. The monitor is listening before the
 * first scan, so a device that appears in between is not lost, and it stays
 * open until the hand-off, so one that appears later is not either: the
 * socket queues what comes between two reads. Unfiltered: a storage
 * controller announced meanwhile (a USB disk) gets its driver, and its disks
 * follow as block events. */
static int watch_open(struct boot *b) {
        struct device_watch *w;

        if (b->watch)
                return 0;
        if (!(w = calloc(1, sizeof *w)))
                return -ENOMEM;
        b->watch = w;
        if (!(w->udev = udev_new()))
                return boot_fail(b, -ENOMEM, "devices: cannot create a udev context");
        w->mon = udev_monitor_new_from_netlink(w->udev, "kernel");
        if (!w->mon || udev_monitor_enable_receiving(w->mon) < 0)
                return boot_fail(b, -EIO, "devices: cannot listen to kernel uevents (netlink): %s", strerror(errno));
        (void) udev_monitor_set_receive_buffer_size(w->mon, 4 * 1024 * 1024);
        return 0;
}

/* Everything the kernel announced since the last read, without waiting:
 * block devices into *seen, drivers for new controllers. */
static int watch_read(struct boot *b, struct seen_list *seen, struct kmod_ctx **kmod) {
        struct device_watch *w = b->watch;
        int r = 0;

        for (;;) {
                errno = 0;
                struct udev_device *dev = udev_monitor_receive_device(w->mon);
                if (!dev)
                        /* Events were dropped: the scan is the truth again. */
                        return errno == ENOBUFS ? coldplug(w->udev, seen) : 0;
                const char *subsystem = udev_device_get_subsystem(dev), *action = udev_device_get_action(dev);
                if (subsystem && streq(subsystem, "block"))
                        r = handle_device(seen, dev);
                else if (action && streq(action, "add"))
                        r = modules_hotplug(b, kmod, udev_device_get_property_value(dev, "MODALIAS"),
                                            udev_device_get_sysattr_value(dev, "class"));
                udev_device_unref(dev);
                if (r < 0)
                        return r;
        }
}

/* Trust-chain rule 2 for the volumes found so far, in this stage or an
 * earlier pass: any other device that carries one's names is a duplicate,
 * however late it came. */
static int check_found(const struct plan *p, struct boot *b, const struct probed *d) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct boot_volume *bv = boot_volume_find(b, p->volumes[i].name);
                struct resolve_out out;

                if (bv && bv->found && volume_duplicate(&p->volumes[i], &bv->dev, d, &out))
                        return boot_refuse(b, out.device, "%s", out.why);
        }
        return 0;
}

int devices_check_late(const struct plan *p, struct boot *b) {
        struct seen_list fresh = {};
        struct kmod_ctx *kmod = NULL;
        int r;

        if (!b->watch || !b->watch->mon)
                return 0;
        r = watch_read(b, &fresh, &kmod);
        for (size_t i = 0; r >= 0 && i < fresh.n; i++)
                r = check_found(p, b, &fresh.v[i]);
        if (r >= 0 && fresh.n)
                log_debug("devices: %zu device event(s) since the devices stage, none a duplicate", fresh.n);
        modules_ctx_free(&kmod);
        seen_done(&fresh);
        return r;
}

int stage_devices(const struct plan *p, struct boot *b) {
        _cleanup_free_ struct pending *pend = calloc(p->n_volumes + 1, sizeof *pend);
        struct seen_list seen = {};
        struct kmod_ctx *kmod = NULL;
        size_t n_pend = 0, left;
        uint64_t start = clock_usec(CLOCK_MONOTONIC) / 1000u;
        int r = 0;

        if (!pend)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                const struct boot_volume *bv = boot_volume_find(b, v->name);
                if (!boot_volume_in_pass(p, b, v) || (bv && bv->found))
                        continue;
                pend[n_pend++] = (struct pending) { v, start + v->timeout_ms, false };
        }
        if (n_pend == 0)
                return devices_check_late(p, b);

        if ((r = watch_open(b)) < 0 || (r = coldplug(b->watch->udev, &seen)) < 0)
                goto out;

        for (left = n_pend;;) {
                for (size_t i = 0; i < n_pend; i++) {
                        struct pending *pv = &pend[i];
                        struct resolve_out res;

                        if (pv->done)
                                continue;
                        switch (volume_resolve(p, pv->v, seen.v, seen.n, &res)) {
                        case RESOLVE_REFUSED:
                                r = boot_refuse(b, res.device, "%s", res.why);
                                goto out;
                        case RESOLVE_FOUND:
                                if ((r = take(b, pv->v, &seen.v[res.index], res.kind)) < 0)
                                        goto out;
                                pv->done = true;
                                left--;
                                break;
                        case RESOLVE_NOT_YET:
                                break;
                        }
                }
                /* A second carrier of a volume found earlier, in this stage
                 * or the first pass, is a duplicate too. */
                for (size_t i = 0; i < seen.n; i++)
                        if ((r = check_found(p, b, &seen.v[i])) < 0)
                                goto out;

                uint64_t now = clock_usec(CLOCK_MONOTONIC) / 1000u, next = UINT64_MAX;
                for (size_t i = 0; i < n_pend; i++) {
                        struct pending *pv = &pend[i];
                        if (pv->done)
                                continue;
                        if (now >= pv->deadline) {
                                char m[1024], s[4096];
                                volume_describe_matches(pv->v, m, sizeof m);
                                describe_seen(&seen, s, sizeof s);
                                pv->done = true;
                                left--;
                                if (pv->v->required) {
                                        r = boot_fail(b, -ETIMEDOUT, "volume %s: no device with %s appeared within %u ms; seen: %s",
                                                      pv->v->name, m, pv->v->timeout_ms, s);
                                        goto out;
                                }
                                if ((r = boot_warn(b, "volume %s (optional): no device with %s appeared within %u ms; seen: %s",
                                                   pv->v->name, m, pv->v->timeout_ms, s)) < 0)
                                        goto out;
                                continue;
                        }
                        if (pv->deadline < next)
                                next = pv->deadline;
                }
                if (left == 0)
                        break;

                struct pollfd pfd = { .fd = udev_monitor_get_fd(b->watch->mon), .events = POLLIN };
                int k = poll(&pfd, 1, (int) (next - now));
                if (k < 0 && errno != EINTR) {
                        r = boot_fail(b, -errno, "devices: waiting for kernel uevents: %s", strerror(errno));
                        goto out;
                }
                if (k > 0 && (r = watch_read(b, &seen, &kmod)) < 0)
                        goto out;
        }
        r = 0;
out:
        modules_ctx_free(&kmod);
        seen_done(&seen);
        return r;
}
