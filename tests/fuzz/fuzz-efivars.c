/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the EFI variables the boot loader and systemd-stub
 * leave, as efivarfs shows them (4 attribute bytes, then the value). The
 * input is written as LoaderEntrySelected, LoaderDevicePartUUID, StubInfo
 * and SecureBoot into a tmpfs directory (/dev/shm, else TMPDIR), read as
 * the plan's inputs (plan_inputs_gather(), src/plan/plan-inputs.c, with
 * efivar_read_string() of src/base/efivars.c), the Kairos boot mode is
 * classified from them (kairos_mode_uki()) and a plan is built with those
 * facts and printed (to /dev/null). The UTF-16 decoder is also run on the
 * raw input. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "efivars.h"
#include "fuzz-plan.h"
#include "fuzz-tmpdir.h"
#include "kairos-mode.h"
#include "plan-inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const vars[][2] = {
        { "LoaderEntrySelected", EFI_LOADER_GUID },
        { "LoaderDevicePartUUID", EFI_LOADER_GUID },
        { "StubInfo", EFI_LOADER_GUID },
        { "SecureBoot", EFI_GLOBAL_GUID },
};
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_tmpdir("fuzz-efivars");
        return 0;
}

static void put(const char *name, const char *guid, const uint8_t *data, size_t size) {
        char file[256];

        snprintf(file, sizeof(file), "%s-%s", name, guid);
        if (fuzz_tmpdir_write(file, data, size) < 0)
                abort();
}

/* What the decoder gives is NUL-terminated UTF-8 of at most 3 bytes per unit. */
static void check_utf8(const uint8_t *data, size_t size) {
        char *s = NULL;

        if (efi_utf16le_to_utf8(data, size, &s) < 0)
                return;
        if (strlen(s) > size / 2 * 3)
                abort();
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
                if (!n)
                        abort();
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                abort();
                p += n;
        }
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct plan_inputs in = PLAN_INPUTS_INIT;
        struct kairos_mode m;
        char *why = NULL;

        check_utf8(data, size);
        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
                put(vars[i][0], vars[i][1], data, size);
        (void) secure_boot_state(fuzz_dir_fd);
        in.root = fuzz_dir;  /* no /.extra there */
        if (plan_inputs_gather(&in, fuzz_dir, EFIVARS_DIR, &why) >= 0) {
                struct cmdline cl;
                struct config c;
                strv errors = {};

                kairos_mode_detect(true, NULL, in.facts.loader_entry, in.facts.loader_partuuid, &m);
                if (!m.mode || (!in.facts.loader_partuuid && strcmp(m.mode, "live_mode")))
                        abort();
                (void) kairos_mode_extension_dir(&m);
                cmdline_init(&cl);
                config_init(&c);
                if (cmdline_parse("", &cl) == 0 && config_load_defaults(&c, &errors) == 0)
                        fuzz_plan_print(&c, &cl, &in.facts, &errors);
                strv_clear(&errors);
                config_done(&c);
                cmdline_done(&cl);
        }
        plan_inputs_done(&in);
        free(why);
        return 0;
}
