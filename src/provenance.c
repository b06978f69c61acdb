/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "provenance.h"
#include "config.h"
#include "util.h"

static const char *const layer_names[_CONFIG_LAYER_MAX] = {
        [CONFIG_LAYER_IMAGE] = "image",
        [CONFIG_LAYER_CMDLINE] = "kernel command line",
        [CONFIG_LAYER_OEM] = "/oem",
};

const char *config_layer_to_string(enum config_layer l) {
        return l < _CONFIG_LAYER_MAX ? layer_names[l] : NULL;
}

/* What /oem may set. Everything that decides whether the chain holds is
 * trust: measuring and signatures (tpm), the cipher allow-list (luks), what
 * runs (init), what a failure leads to (on_failure, allow_shell, reboot_delay),
 * Secure Boot (allow_insecure_boot), the root's relocation, the extension
 * anchors and sources, and the timeouts (a short one turns a slow genuine
 * disk into a failure, a long one holds the boot while a device is swapped).
 * binds.state_dir is trust too: it says where every persistent path comes
 * from, and /oem could point it at itself. */
static const struct {
        const char *key;
        enum key_class cls;
} key_table[] = {
        { "volumes",                      KEY_VOLUME },
        { "tpm",                          KEY_TRUST },
        { "luks",                         KEY_TRUST },
        { "overlay",                      KEY_LAYOUT },  /* size, paths, extra_paths */
        { "binds",                        KEY_LAYOUT },  /* seed, paths, extra_paths */
        { "binds.state_dir",              KEY_TRUST },
        { "root",                         KEY_TRUST },
        { "init",                         KEY_TRUST },
        { "on_failure",                   KEY_TRUST },
        { "allow_shell",                  KEY_TRUST },
        { "allow_insecure_boot",          KEY_TRUST },
        { "reboot_delay",                 KEY_TRUST },
        { "timeout",                      KEY_TRUST },
        { "extensions",                   KEY_TRUST },
        /* Kairos cloud-configs */
        { "install.bind_mounts",          KEY_LAYOUT },
        { "install.ephemeral_mounts",     KEY_LAYOUT },
        /* only adds volumes that must be unlocked from the chain */
        { "install.encrypted_partitions", KEY_LAYOUT },
};

static bool key_prefix(const char *path, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

enum key_class key_class_of(const char *path) {
        enum key_class cls = KEY_TRUST;
        size_t best = 0;

        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (key_prefix(path, key_table[i].key) && strlen(key_table[i].key) > best) {
                        best = strlen(key_table[i].key);
                        cls = key_table[i].cls;
                }
        return cls;
}

bool layer_may_set(enum config_layer layer, enum key_class cls, bool image_volume) {
        if (layer != CONFIG_LAYER_OEM)
                return true;
        switch (cls) {
        case KEY_LAYOUT:
                return true;
        case KEY_VOLUME:
                return !image_volume;
        default:
                return false;
        }
}

/* Places a volume from /oem may not cover, be, or sit inside: the image's
 * own tree, the OEM volume itself and the persistent volume, and where
 * usi-init keeps its run state. */
static const char *const image_places[] = { "/etc", "/usr", "/oem", "/usr/local", "/run" };

static bool overlaps(const char *a, const char *b) {
        return path_startswith(a, b) || path_startswith(b, a);
}

int oem_volume_refusal(const struct config *c, const struct config_volume *v, char *why, size_t size) {
        const char *m = v->mount.path;

        /* A key file on /oem is a key the attacker holds; a plain volume is
         * data the attacker wrote. */
        if (v->encrypted == ENCRYPTION_NO)
                return snprintf(why, size, "a volume added on /oem must be encrypted, not 'encrypted: no'"), -EPERM;
        if (v->keyfile.path)
                return snprintf(why, size, "a volume added on /oem cannot name a key file: "
                                "the key would come from a disk anyone can write"), -EPERM;
        for (size_t i = 0; i < v->n_unlock; i++)
                if (v->unlock[i] == UNLOCK_KEYFILE)
                        return snprintf(why, size, "a volume added on /oem cannot be unlocked by a key file: "
                                        "the key would come from a disk anyone can write"), -EPERM;
        /* The image's volumes are found and opened only as the image says:
         * a second entry for the same device could open it another way. */
        for (size_t i = 0; i < c->n_volumes; i++) {
                const struct config_volume *o = &c->volumes[i];
                if (o == v || o->layer == CONFIG_LAYER_OEM)
                        continue;
                for (size_t a = 0; a < _MATCH_MAX; a++)
                        for (size_t b = 0; b < _MATCH_MAX; b++)
                                if (v->match[a] && o->match[b] && streq(v->match[a], o->match[b]))
                                        return snprintf(why, size, "its %s %s is how the image's volume %s is found",
                                                        match_kind_to_string(a), v->match[a], o->name), -EPERM;
        }
        if (!m)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(image_places); i++)
                if (overlaps(m, image_places[i]))
                        return snprintf(why, size, "mount point %s is at, above or below %s, which only the image places",
                                        m, image_places[i]), -EPERM;
        for (size_t i = 0; i < c->n_volumes; i++) {
                const struct config_volume *o = &c->volumes[i];
                if (o != v && o->layer != CONFIG_LAYER_OEM && o->mount.path && overlaps(m, o->mount.path))
                        return snprintf(why, size, "mount point %s is at, above or below %s, the mount point of "
                                        "the image's volume %s", m, o->mount.path, o->name), -EPERM;
        }
        if (c->state_dir.path && overlaps(m, c->state_dir.path))
                return snprintf(why, size, "mount point %s is at, above or below the state directory %s", m,
                                c->state_dir.path), -EPERM;
        return 0;
}
