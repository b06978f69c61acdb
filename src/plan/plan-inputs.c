/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "efivars.h"
#include "plan-inputs.h"
#include "usi-mode.h"
#include "why.h"

static bool root_is_this_machine(const char *root) {
        return !root || !*root || streq(root, "/");
}

static int open_efivars(const struct plan_inputs *in, const char *efivars, const char *firmware, char **why) {
        int fd;

        if (efivars) {
                fd = open(efivars, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        why_set(why, 0, "--efivars %s: %s", efivars, strerror(e));
                        return -e;
                }
                return fd;
        }
        if (!root_is_this_machine(in->root))
                return -1;
        fd = open(firmware, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -1 : fd;
}

int plan_inputs_gather(struct plan_inputs *in, const char *efivars, const char *firmware, char **why) {
        int fd = open_efivars(in, efivars, firmware, why);

        if (fd < -1)
                return fd;
        in->efivars_fd = fd;
        /* A variable that is missing or malformed is simply not set. */
        if (usi_mode_evidence(in->root, fd, &in->facts.usi_evidence) < 0 ||
            (fd >= 0 && (efivar_read_string(fd, "LoaderEntrySelected", EFI_LOADER_GUID, &in->facts.loader_entry) == -ENOMEM ||
                         efivar_read_string(fd, "LoaderDevicePartUUID", EFI_LOADER_GUID, &in->facts.loader_partuuid) == -ENOMEM))) {
                why_set(why, 0, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

void plan_inputs_done(struct plan_inputs *in) {
        if (in->efivars_fd >= 0)
                close(in->efivars_fd);
        in->efivars_fd = -1;
        plan_facts_done(&in->facts);
}
