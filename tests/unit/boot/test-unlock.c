/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "measure.h"
#include "runner.h"
#include "stages.h"
#include "phase.h"
#include "unlock.h"

/* A plan of five volumes and what the devices stage found for them. */
struct fx {
        struct plan p;
        struct plan_volume v[6];
        struct boot b;
};

static void volume(struct fx *f, size_t i, const char *name, const char *mount, enum content c, bool found,
                   const enum unlock_method *m, size_t n) {
        struct boot_volume *bv;

        f->v[i] = (struct plan_volume) { .name = (char *) name, .mount = (char *) mount, .required = true };
        memcpy(f->v[i].unlock, m, n * sizeof(*m));
        f->v[i].n_unlock = n;
        bv = boot_volume_get(&f->b, name);
        assert_non_null(bv);
        bv->found = found;
        bv->dev.content = c;
}

static int setup(void **state) {
        struct fx *f = calloc(1, sizeof(*f));
        static const enum unlock_method tpm_pass[] = { UNLOCK_TPM2, UNLOCK_PASSPHRASE };
        static const enum unlock_method tpm_key[] = { UNLOCK_KEYFILE, UNLOCK_TPM2 };
        static const enum unlock_method recovery[] = { UNLOCK_RECOVERY_KEY };
        static const enum unlock_method tpm[] = { UNLOCK_TPM2 };

        f->b = (struct boot) { .root_fd = -1, .failed_stage = -1, .pass = BOOT_PASS_REST };
        volume(f, 0, "oem", "/oem", CONTENT_LUKS2, true, tpm_pass, 2);
        volume(f, 1, "persistent", "/usr/local", CONTENT_LUKS2, true, tpm_key, 2);
        volume(f, 2, "data", "/data", CONTENT_LUKS2, true, recovery, 1);
        volume(f, 3, "plain", "/plain", CONTENT_FS, true, tpm, 1);
        volume(f, 4, "absent", "/absent", CONTENT_LUKS2, false, tpm, 1);
        volume(f, 5, "done", "/done", CONTENT_LUKS2, true, tpm, 1);
        boot_volume_get(&f->b, "done")->opened = true;
        f->p.volumes = f->v;
        f->p.n_volumes = 6;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        boot_done(&f->b);
        free(f);
        return 0;
}

/* Trust-chain rule 3: every TPM volume first, fallbacks after all of them,
 * only those a volume lists, in its list's order. */
static void test_order_rest(void **state) {
        struct fx *f = *state;
        _cleanup_free_ struct unlock_step *s = NULL;
        size_t n;

        assert_int_equal(unlock_order(&f->p, &f->b, &s, &n), 0);
        assert_int_equal(n, 5);
        assert_int_equal(s[0].volume, 0);
        assert_int_equal(s[0].method, UNLOCK_TPM2);
        assert_int_equal(s[1].volume, 1);
        assert_int_equal(s[1].method, UNLOCK_TPM2);
        assert_int_equal(s[2].volume, 0);
        assert_int_equal(s[2].method, UNLOCK_PASSPHRASE);
        assert_int_equal(s[3].volume, 1);
        assert_int_equal(s[3].method, UNLOCK_KEYFILE);
        assert_int_equal(s[4].volume, 2);
        assert_int_equal(s[4].method, UNLOCK_RECOVERY_KEY);
}

static void test_order_oem_pass(void **state) {
        struct fx *f = *state;
        _cleanup_free_ struct unlock_step *s = NULL;
        size_t n;

        f->b.pass = BOOT_PASS_OEM;
        assert_int_equal(unlock_order(&f->p, &f->b, &s, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(s[0].volume, 0);
        assert_int_equal(s[0].method, UNLOCK_TPM2);
        assert_int_equal(s[1].volume, 0);
        assert_int_equal(s[1].method, UNLOCK_PASSPHRASE);
}

static void test_prompt(void **state) {
        int fds[2], out[2];
        _cleanup_secret_ struct secret *s = NULL;
        char buf[256] = "";

        assert_int_equal(pipe(fds), 0);
        assert_int_equal(pipe2(out, O_NONBLOCK), 0);
        assert_int_equal(write(fds[1], "open sesame\nrest", 16), 16);
        assert_int_equal(unlock_prompt(fds[0], out[1], "Passphrase: ", 1000, &s), 0);
        assert_int_equal(s->size, 11);
        assert_memory_equal(s->data, "open sesame", 11);
        assert_true(read(out[0], buf, sizeof(buf) - 1) > 0);
        assert_string_equal(buf, "Passphrase: ");
        secret_free(TAKE_PTR(s));

        /* nothing comes: timeout */
        close(fds[1]);
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(unlock_prompt(fds[0], out[1], "P: ", 50, &s), -ETIME);
        /* EOF before anything: no data */
        close(fds[1]);
        assert_int_equal(unlock_prompt(fds[0], out[1], "P: ", 1000, &s), -ENODATA);
        close(fds[0]);
        close(out[0]);
        close(out[1]);
}

/* Nothing eligible: the stage does nothing and succeeds. */
static void test_stage_nothing(void **state) {
        struct fx *f = *state;
        f->p.n_volumes = 0;
        assert_int_equal(stage_unlock(&f->p, &f->b), 0);
        assert_null(f->b.tpm);
        assert_false(f->b.failed);
}

static void test_measure_boot_phase(void **state) {
        struct fx *f = *state;
        char tcti[] = "swtpm:path=/nonexistent/usi-test-socket";

        /* measuring off: nothing is opened */
        assert_int_equal(measure_boot_phase(&f->p, &f->b, "enter-initrd"), 0);
        assert_null(f->b.tpm);
        f->p.measure_phases = true;
        f->p.tpm_device = tcti;
        assert_int_equal(measure_boot_phase(&f->p, &f->b, "enter-initrd"), -ENODEV);
        assert_null(f->b.tpm);
}

/* A systemd initrd: the volumes are under /sysroot, the stub's signature is
 * in the initrd's own /.extra. Given files come first, as given; the plan's
 * list follows under the root. */
static void test_signature_paths(void **state) {
        struct fx *f = *state;
        strv given = {}, got = {};

        assert_int_equal(strv_push(&given, "/.extra/tpm2-pcr-signature.json"), 0);
        assert_int_equal(strv_push(&f->p.signatures, "/.extra/tpm2-pcr-signature.json"), 0);
        assert_int_equal(strv_push(&f->p.signatures, "/etc/systemd/tpm2-pcr-signature.json"), 0);
        f->b.root = "/sysroot";
        f->b.signatures = &given;
        assert_int_equal(unlock_signature_paths(&f->p, &f->b, &got), 0);
        assert_int_equal(got.n, 3);
        assert_string_equal(got.v[0], "/.extra/tpm2-pcr-signature.json");
        assert_string_equal(got.v[1], "/sysroot/.extra/tpm2-pcr-signature.json");
        assert_string_equal(got.v[2], "/sysroot/etc/systemd/tpm2-pcr-signature.json");
        strv_clear(&got);

        /* without --signature and without a root: just the plan's list */
        f->b.root = "";
        f->b.signatures = NULL;
        assert_int_equal(unlock_signature_paths(&f->p, &f->b, &got), 0);
        assert_int_equal(got.n, 2);
        assert_string_equal(got.v[0], "/.extra/tpm2-pcr-signature.json");
        strv_clear(&got);
        strv_clear(&given);
        strv_clear(&f->p.signatures);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_order_rest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_order_oem_pass, setup, teardown),
                cmocka_unit_test(test_prompt),
                cmocka_unit_test_setup_teardown(test_stage_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_measure_boot_phase, setup, teardown),
                cmocka_unit_test_setup_teardown(test_signature_paths, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
