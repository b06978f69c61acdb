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

/* The pass's volumes as the batch sees them, each header read with a
 * token, so every TPM step reaches an Unseal. */
static void volumes_of(struct fx *f, struct unlock_volume **v, size_t **index, size_t *n) {
        assert_int_equal(unlock_volumes(&f->p, &f->b, v, index, n), 0);
        for (size_t i = 0; i < *n; i++)
                (*v)[i].tpm_tokens = 1;
}

static void assert_step(const struct unlock_step *s, size_t volume, enum unlock_method m, bool ends) {
        assert_int_equal(s->volume, volume);
        assert_int_equal(s->method, m);
        assert_int_equal(s->ends_session, ends);
}

/* Trust-chain rule 3: every TPM volume first, fallbacks after all of them,
 * only those a volume lists, in its list's order. */
static void test_order_rest(void **state) {
        struct fx *f = *state;
        _cleanup_free_ struct unlock_volume *v = NULL;
        _cleanup_free_ size_t *index = NULL;
        _cleanup_free_ struct unlock_step *s = NULL;
        size_t n, n_s;

        volumes_of(f, &v, &index, &n);
        assert_int_equal(n, 3);
        assert_int_equal(index[0], 0);
        assert_int_equal(index[1], 1);
        assert_int_equal(index[2], 2);
        assert_int_equal(unlock_steps(v, n, true, &s, &n_s), 0);
        assert_int_equal(n_s, 5);
        assert_step(&s[0], 0, UNLOCK_TPM2, false);
        assert_step(&s[1], 1, UNLOCK_TPM2, true);
        assert_step(&s[2], 0, UNLOCK_PASSPHRASE, false);
        assert_step(&s[3], 1, UNLOCK_KEYFILE, false);
        assert_step(&s[4], 2, UNLOCK_RECOVERY_KEY, false);
}

static void test_order_oem_pass(void **state) {
        struct fx *f = *state;
        _cleanup_free_ struct unlock_volume *v = NULL;
        _cleanup_free_ size_t *index = NULL;
        _cleanup_free_ struct unlock_step *s = NULL;
        size_t n, n_s;

        f->b.pass = BOOT_PASS_OEM;
        volumes_of(f, &v, &index, &n);
        assert_int_equal(n, 1);
        /* An earlier pass keeps the session for the next one. */
        assert_int_equal(unlock_steps(v, n, false, &s, &n_s), 0);
        assert_int_equal(n_s, 2);
        assert_step(&s[0], 0, UNLOCK_TPM2, false);
        assert_step(&s[1], 0, UNLOCK_PASSPHRASE, false);
}

/* The session rule: exactly one Unseal ends the session, the last one that
 * will be made; a volume whose header could not be read, or that carries no
 * token, never reaches the TPM and so cannot end it, whatever its place in
 * the list. Nothing ends it in a batch that is not final. */
static void test_session_rule(void **state) {
        static const enum unlock_method tpm_key[] = { UNLOCK_TPM2, UNLOCK_KEYFILE };
        struct unlock_volume v[4] = {};
        (void) state;

        for (size_t i = 0; i < 4; i++) {
                memcpy(v[i].methods, tpm_key, sizeof(tpm_key));
                v[i].n_methods = 2;
                v[i].tpm_tokens = 1;
        }
        v[2].tpm_tokens = 0;    /* no systemd-tpm2 token */
        v[3].tpm_tokens = -1;   /* header not readable: no attempt at all */

        for (int final = 0; final <= 1; final++) {
                _cleanup_free_ struct unlock_step *s = NULL;
                size_t n_s, ends = 0;

                assert_int_equal(unlock_steps(v, 4, final, &s, &n_s), 0);
                assert_int_equal(n_s, 6);
                assert_step(&s[0], 0, UNLOCK_TPM2, false);
                assert_step(&s[1], 1, UNLOCK_TPM2, final);
                assert_step(&s[2], 2, UNLOCK_TPM2, false);
                for (size_t i = 0; i < 3; i++)
                        assert_step(&s[3 + i], i, UNLOCK_KEYFILE, false);
                for (size_t i = 0; i < n_s; i++)
                        ends += s[i].ends_session;
                assert_int_equal(ends, final ? 1 : 0);
        }

        /* No volume with a token: no Unseal, nothing to end. */
        v[0].tpm_tokens = v[1].tpm_tokens = 0;
        _cleanup_free_ struct unlock_step *s = NULL;
        size_t n_s;
        assert_int_equal(unlock_steps(v, 4, true, &s, &n_s), 0);
        for (size_t i = 0; i < n_s; i++)
                assert_false(s[i].ends_session);
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
                cmocka_unit_test(test_session_rule),
                cmocka_unit_test(test_prompt),
                cmocka_unit_test_setup_teardown(test_stage_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_measure_boot_phase, setup, teardown),
                cmocka_unit_test_setup_teardown(test_signature_paths, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
