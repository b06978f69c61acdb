/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "provenance.h"
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
