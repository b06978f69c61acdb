/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one builder of plan inputs, which `plan` and `boot` both call: whose
 * EFI variables it reads (the firmware's when the root is this machine, PID 1
 * or not; with another root only --efivars DIR), and that what it reads
 * there (systemd-stub's variables, the boot loader's entry) makes the plan a
 * USI one that accepts no plaintext volume. The firmware's directory is a
 * parameter, so these tests hand it a directory of their own. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "efivars.h"
#include "load.h"

static char dir[] = "/tmp/test-plan-inputs-XXXXXX";
static char firmware[256], root[256], config[256];

/* An EFI variable file as efivarfs shows it: attributes, then a UTF-16LE
 * string with its NUL. */
static void put_string(const char *name, const char *ascii) {
        uint8_t buf[512] = { 0x06 };
        char path[512];
        size_t n = strlen(ascii);

        for (size_t i = 0; i < n; i++)
                buf[4 + 2 * i] = (uint8_t) ascii[i];
        snprintf(path, sizeof path, "%s/%s-%s", firmware, name, EFI_LOADER_GUID);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, 4 + 2 * n + 2), (ssize_t) (4 + 2 * n + 2));
        close(fd);
}

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        snprintf(firmware, sizeof firmware, "%s/efivars", dir);
        snprintf(root, sizeof root, "%s/root", dir);
        snprintf(config, sizeof config, "%s/usi-init.yaml", dir);
        assert_int_equal(mkdir(firmware, 0755), 0);
        assert_int_equal(mkdir(root, 0755), 0);
        /* A UKI booted by systemd-boot from the disk, entry active.conf. */
        put_string("StubInfo", "systemd-stub 257");
        put_string("LoaderDevicePartUUID", "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
        put_string("LoaderEntrySelected", "active.conf");
        /* The given config, so that the host's /etc/usi-init is not read. */
        FILE *f = fopen(config, "we");
        assert_non_null(f);
        fputs("tpm:\n  measure_phases: true\n", f);
        fclose(f);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static bool has_stub_evidence(const strv *v) {
        for (size_t i = 0; i < v->n; i++)
                if (strstr(v->v[i], "StubInfo-" EFI_LOADER_GUID " (systemd-stub 257)"))
                        return true;
        return false;
}

/* Gather as `boot` and `plan` do (the firmware's directory being ours),
 * build the plan. */
static void gather_and_load(const char *root_dir, const char *efivars, struct plan_inputs *in, struct plan *p) {
        _cleanup_free_ char *why = NULL;
        struct cmdline cl;
        strv errors = {};

        *in = (struct plan_inputs) PLAN_INPUTS_INIT;
        in->root = root_dir;
        in->cmdline = "root=LABEL=COS_PASSIVE";
        assert_int_equal(strv_push(&in->config_files, config), 0);
        assert_int_equal(plan_inputs_gather(in, efivars, firmware, &why), 0);
        cmdline_init(&cl);
        assert_int_equal(plan_load(in, false, &cl, p, &errors), 0);
        cmdline_done(&cl);
        assert_int_equal(errors.n, 0);
}

static void done(struct plan_inputs *in, struct plan *p) {
        plan_done(p);
        strv_clear(&in->config_files);
        plan_inputs_done(in);
        assert_int_equal(in->efivars_fd, -1);
}

/* The USI plan: every volume not declared `encrypted: no` only as LUKS2,
 * and the Kairos mode from the boot loader's entry. */
static void assert_usi_plan(const struct plan_inputs *in, const struct plan *p) {
        size_t crypt = 0;

        assert_true(in->efivars_fd >= 0);
        assert_true(has_stub_evidence(&in->facts.usi_evidence));
        assert_true(p->usi_mode);
        assert_true(has_stub_evidence(&p->usi_evidence));
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].encrypted != ENCRYPTION_NO) {
                        assert_true(plan_volume_needs_crypt(p, &p->volumes[i]));
                        crypt++;
                }
        assert_true(crypt > 0);
        assert_string_equal(p->kairos.mode, "active_mode");
        assert_string_equal(p->kairos.uki, "uki_boot_mode");
        assert_string_equal(p->boot_entry, "active.conf");
}

static void assert_usi_from(const char *root_dir, const char *efivars) {
        struct plan_inputs in;
        struct plan p;

        gather_and_load(root_dir, efivars, &in, &p);
        assert_usi_plan(&in, &p);
        done(&in, &p);
}

/* A `boot --no-handoff` on the real root (usi-init-system.service: not PID
 * 1, no --root) and `plan` on it read the firmware's variables: both see
 * the UKI boot. */
static void test_this_machine_reads_the_firmware(void **state) {
        assert_usi_from(NULL, NULL);
        assert_usi_from("/", NULL);     /* "/" is this machine too */
}

/* Another root: the host's firmware says nothing about it. */
static void test_other_root_reads_none(void **state) {
        struct plan_inputs in;
        struct plan p;

        gather_and_load(root, NULL, &in, &p);
        assert_int_equal(in.efivars_fd, -1);
        assert_int_equal(in.facts.usi_evidence.n, 0);
        assert_null(in.facts.loader_entry);
        assert_false(p.usi_mode);
        for (size_t i = 0; i < p.n_volumes; i++)
                if (p.volumes[i].encrypted != ENCRYPTION_YES)
                        assert_false(plan_volume_needs_crypt(&p, &p.volumes[i]));
        /* Not a UKI boot: the command line names the mode. */
        assert_string_equal(p.kairos.mode, "passive_mode");
        assert_null(p.kairos.uki);
        assert_null(p.boot_entry);
        done(&in, &p);
}

/* --efivars DIR is read whatever the root. */
static void test_given_efivars(void **state) {
        assert_usi_from(root, firmware);
}

/* A given directory that cannot be opened is the caller's error; a machine
 * without EFI variables (a BIOS boot) is not. */
static void test_missing(void **state) {
        struct plan_inputs in = PLAN_INPUTS_INIT;
        _cleanup_free_ char *why = NULL;
        char missing[300];

        snprintf(missing, sizeof missing, "%s/nowhere", dir);
        in.root = root;
        assert_int_equal(plan_inputs_gather(&in, missing, firmware, &why), -ENOENT);
        assert_non_null(strstr(why, "--efivars "));
        assert_non_null(strstr(why, "nowhere"));
        assert_int_equal(in.efivars_fd, -1);
        plan_inputs_done(&in);

        in = (struct plan_inputs) PLAN_INPUTS_INIT;
        assert_int_equal(plan_inputs_gather(&in, NULL, missing, &why), 0);
        assert_int_equal(in.efivars_fd, -1);
        assert_null(in.facts.loader_entry);
        plan_inputs_done(&in);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_this_machine_reads_the_firmware),
                cmocka_unit_test(test_other_root_reads_none),
                cmocka_unit_test(test_given_efivars),
                cmocka_unit_test(test_missing),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
