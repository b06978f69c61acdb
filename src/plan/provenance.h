/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Who wrote a configuration file, and so what it may set (trust-chain rule 5).
 * The image (built-in defaults, its /etc/usi-init, --config files) and the
 * kernel command line (rd.usi.config= inside the initrd; a UKI signs both)
 * may set everything. /oem is the node's own: writable by the final OS and
 * whatever a planted OEM volume says, so it may set the layout only. */
enum config_layer {
        CONFIG_LAYER_IMAGE,
        CONFIG_LAYER_CMDLINE,
        CONFIG_LAYER_OEM,
        _CONFIG_LAYER_MAX,
};
const char *config_layer_to_string(enum config_layer l);

enum key_class {
        KEY_TRUST,      /* the image and the kernel command line only */
        KEY_LAYOUT,     /* every layer: where things are mounted, sizes */
        KEY_VOLUME,     /* layout for a volume the same layer defines, trust for
                         * a volume an earlier (image) layer defined */
};

/* The class of a key path: "tpm.measure_phases", "binds.seed", or a volume
 * key without the volume's name ("volumes.unlock"). The longest listed
 * prefix decides; a key the table does not list is trust, so a key added
 * later is closed to /oem until someone decides otherwise. */
enum key_class key_class_of(const char *path);

/* May a file of `layer` set a key of class `cls`? `image_volume`: the key
 * belongs to a volume that a layer other than /oem defined. */
bool layer_may_set(enum config_layer layer, enum key_class cls, bool image_volume);

/* The message for a key /oem may not set (after "FILE:LINE:COLUMN: KEY"). */
#define IGNORED_ONLY_IMAGE "ignored: only the image may set this"
