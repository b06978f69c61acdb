/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "efivars.h"
#include "kairos-mode.h"
#include "log.h"
#include "mounts.h"
#include "phase.h"
#include "root-fs.h"
#include "stages.h"
#include "why.h"

/* The early stage: the API file systems, the Secure Boot check, the Kairos
 * mode files, PCR 11 before enter-initrd, then enter-initrd. */

/* Secure Boot off means the firmware ran whatever it was given: this UKI's
 * signature was not checked. Fail closed unless the command line or the
 * initrd's config (both inside the signed UKI; the /oem config is not read
 * yet) allow it. A machine without EFI variables has no Secure Boot to ask:
 * the check is skipped, as Kairos does. Binding the keys to PCR 7 at
 * enrolment is what protects them either way. */
static int check_secure_boot(const struct plan *p, struct boot *b) {
        enum secure_boot sb = secure_boot_state(b->efivars_fd);

        switch (sb) {
        case SECURE_BOOT_ON:
                log_info("early: Secure Boot is on");
                return 0;
        case SECURE_BOOT_NO_EFI:
                if (b->pid1)
                        log_info("early: no EFI variables (a BIOS boot): Secure Boot not checked");
                return 0;
        case SECURE_BOOT_OFF:
                break;
        }
        if (p->insecure_boot_allowed)
                return boot_warn(b, "early: Secure Boot is off; booting on because rd.usi.insecure, "
                                    "rd.immucore.securebootdisabled or allow_insecure_boot allows it");
        return boot_refuse(b, NULL, "early: Secure Boot is off (EFI variable SecureBoot-%s is not 1): the firmware did not "
                                    "verify this image; refusing to boot (rd.usi.insecure or allow_insecure_boot: true overrides)",
                           EFI_GLOBAL_GUID);
}

/* /run/cos/<mode> for a Kairos userspace, as the plan decided it (from the
 * boot loader's EFI variables on a UKI boot, from the command line
 * otherwise). A failure to write them is a warning: the volumes are not at
 * stake. */
static int write_kairos_mode(const struct plan *p, struct boot *b) {
        const struct kairos_mode *m = &p->kairos;
        _cleanup_close_ int dir = -1;
        const char *failed = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        if ((r = root_mkdir_p(b->root_fd, KAIROS_SENTINEL_DIR, RESOLVE_STRICT, NULL, &dir, NULL, &why)) < 0)
                return boot_warn(b, "early: cannot create %s: %s", KAIROS_SENTINEL_DIR, why);
        if ((r = kairos_mode_write(dir, m, &failed)) < 0)
                return boot_warn(b, "early: cannot write %s/%s: %s", KAIROS_SENTINEL_DIR, failed, strerror(-r));
        log_info("early: boot mode %s%s%s (boot entry %s, boot partition %s)", m->mode, m->uki ? ", " : "",
                 strempty(m->uki), p->boot_entry ? p->boot_entry : "none", p->boot_partuuid ? p->boot_partuuid : "none");
        return 0;
}

int stage_early(const struct plan *p, struct boot *b) {
        int r = mounts_api(p, b);

        if (r < 0)
                return r;
        if ((r = check_secure_boot(p, b)) < 0 || (r = write_kairos_mode(p, b)) < 0)
                return r;
        if (phase_wanted(p, b))
                window_record_base(p, b);
        return phase_step(p, b, "enter-initrd");
}
