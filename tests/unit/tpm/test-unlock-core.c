/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unlock core's order around the binding hook, with the LUKS2 and TPM
 * calls replaced at link time (-Wl,--wrap): a volume bound behind another
 * of the same batch is unsealed only after that one's keyslot was opened
 * (its key digest is what the binding check needs), a hook that keeps
 * asking is refused, and a refusal skips the volume's Unseal. Real headers
 * and a software TPM are the integration tests' part (tests/tpm/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "luks.h"
#include "unlock-core.h"
#include "why.h"

/* What happened, in order, one word each: "unseal:A", "open:A", "bind:B+"
 * (B asked with volumes unsealed before it and not yet opened), "bind:B-",
 * "report:A=0". */
static char events[16][96];
static size_t n_events;

static void event(const char *fmt, ...) {
        va_list ap;

        assert_true(n_events < sizeof(events) / sizeof(events[0]));
        va_start(ap, fmt);
        vsnprintf(events[n_events++], sizeof(events[0]), fmt, ap);
        va_end(ap);
}

/* The TPM refuses every volume (fallback tests). */
static bool tpm_fails;

/* A fake header is its volume's path. */
static const char *vol_of(struct crypt_device *cd) {
        return (const char *) cd;
}

int __wrap_luks_load(const char *path, const char *const *ciphers, struct crypt_device **ret, char **why);
int __wrap_luks_load(const char *path, const char *const *ciphers, struct crypt_device **ret, char **why) {
        (void) ciphers;
        (void) why;
        *ret = (struct crypt_device *) path;
        return 0;
}

void __wrap_luks_free(struct crypt_device *cd);
void __wrap_luks_free(struct crypt_device *cd) {
        (void) cd;
}

int __wrap_luks_count_tpm2_tokens(struct crypt_device *cd);
int __wrap_luks_count_tpm2_tokens(struct crypt_device *cd) {
        (void) cd;
        return 1;
}

int __wrap_luks_unseal_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                            struct luks_key *ret, char **why);
int __wrap_luks_unseal_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                            struct luks_key *ret, char **why) {
        (void) tpm;
        (void) a;
        event("unseal:%s", vol_of(cd));
        *ret = (struct luks_key) { .token = 0, .keyslot = 1 };
        if (tpm_fails)
                return why_set(why, EPERM, "policy digest mismatch");
        return 0;
}

void __wrap_luks_key_done(struct luks_key *k);
void __wrap_luks_key_done(struct luks_key *k) {
        *k = (struct luks_key) { .token = -1, .keyslot = -1 };
}

size_t __wrap_luks_activate_all(struct luks_job *jobs, size_t n);
size_t __wrap_luks_activate_all(struct luks_job *jobs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                event("open:%s", vol_of(jobs[i].cd));
                jobs[i].result = jobs[i].key->keyslot;
        }
        return 0;
}

int __wrap_luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                              struct pcr15_digests *measure, struct luks_result *ret, char **why);
int __wrap_luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                              struct pcr15_digests *measure, struct luks_result *ret, char **why) {
        (void) name;
        (void) measure;
        if (key->size == 5 && !memcmp(key->data, "right", 5)) {
                event("open:%s by key", vol_of(cd));
                *ret = (struct luks_result) { .token = -1, .keyslot = 0 };
                return 0;
        }
        return why_set(why, ENOKEY, "no fallback in this test");
}

/* ---- the caller's side ------------------------------------------------------ */

static int fake_tpm;

static int get_tpm(void *userdata, struct tpm2_ctx **ret, char **why) {
        (void) userdata;
        (void) why;
        *ret = (struct tpm2_ctx *) &fake_tpm;
        return 0;
}

/* How the hook answers for volume B: "wait" asks for the volumes before it
 * while any is unopened, "always" asks every time, "refuse" refuses. */
static const char *bind_mode;

static int bind_hook(void *userdata, struct unlock_volume *v, struct tpm2_ctx *tpm, bool unopened_before,
                     char **why) {
        (void) userdata;
        (void) tpm;
        event("bind:%s%c", v->path, unopened_before ? '+' : '-');
        if (strcmp(v->path, "B") != 0)
                return 0;
        if (strcmp(bind_mode, "refuse") == 0)
                return why_set(why, EPERM, "bound behind keys not opened before it");
        if (strcmp(bind_mode, "always") == 0 || unopened_before)
                return 1;
        return 0;
}

static int report(void *userdata, struct unlock_volume *v, const struct unlock_attempt *a) {
        (void) userdata;
        if (a->error < 0)
                event("report:%s=%s", v->path, a->why);
        else
                event("report:%s=ok", v->path);
        return 0;
}

static void expect_events(const char *const *want, size_t n) {
        for (size_t i = 0; i < n_events || i < n; i++)
                print_message("  event %zu: %s (want %s)\n", i, i < n_events ? events[i] : "-",
                              i < n ? want[i] : "-");
        assert_int_equal(n_events, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(events[i], want[i]);
}

/* ---- fallbacks: which openings a person made ----------------------------- */

static int read_right(void *userdata, const struct unlock_volume *v, struct secret **ret, char **why) {
        (void) userdata;
        (void) v;
        (void) why;
        return secret_new_from("right", 5, ret);
}

static int by_person(void *userdata, struct unlock_volume *v, enum unlock_method m, const struct secret *key) {
        (void) userdata;
        event("person:%s:%s:%.*s", v->path, m == UNLOCK_PASSPHRASE ? "passphrase" : "other", (int) key->size,
              (const char *) key->data);
        return 0;
}

/* After the TPM failed: A opens by its key file, B by a passphrase typed
 * (a pipe stands in for the console). Only B was opened by a person, and
 * the hook sees the key that opened it while it is still held. */
static void test_opened_by_person(void **state) {
        static const char *const want[] = {
                "unseal:A", "report:A=policy digest mismatch", "unseal:B", "report:B=policy digest mismatch",
                "open:A by key", "report:A=ok", "open:B by key", "person:B:passphrase:right", "report:B=ok",
        };
        struct unlock_volume v[2] = {
                { .path = "A", .name = "a", .methods = { UNLOCK_TPM2, UNLOCK_KEYFILE }, .n_methods = 2 },
                { .path = "B", .name = "b", .methods = { UNLOCK_TPM2, UNLOCK_PASSPHRASE }, .n_methods = 2 },
        };
        int in[2], out[2];

        (void) state;
        assert_int_equal(pipe(in), 0);
        assert_int_equal(pipe(out), 0);
        assert_int_equal(write(in[1], "right\n", 6), 6);
        struct unlock_batch b = {
                .tpm = get_tpm, .report = report, .final = true, .read_keyfile = read_right,
                .prompt = { .in_fd = in[0], .out_fd = out[1], .timeout_ms = 1000, .tries = 1 },
                .opened_by_person = by_person,
        };
        n_events = 0;
        tpm_fails = true;
        assert_int_equal(unlock_run(&b, v, 2), 0);
        tpm_fails = false;
        for (int i = 0; i < 2; i++) {
                close(in[i]);
                close(out[i]);
        }
        expect_events(want, sizeof(want) / sizeof(want[0]));
}

static void run(const char *mode) {
        struct unlock_volume v[2] = {
                { .path = "A", .name = "a", .methods = { UNLOCK_TPM2 }, .n_methods = 1 },
                { .path = "B", .name = "b", .methods = { UNLOCK_TPM2 }, .n_methods = 1 },
        };
        struct unlock_batch b = { .tpm = get_tpm, .bind = bind_hook, .report = report, .final = true };

        n_events = 0;
        bind_mode = mode;
        assert_int_equal(unlock_run(&b, v, 2), 0);
}


/* B is bound behind A, A was unsealed in the same batch: A's keyslot is
 * opened (and reported) before the hook is asked again and B unsealed. */
static void test_bound_behind_same_batch(void **state) {
        static const char *const want[] = {
                "bind:A-", "unseal:A", "bind:B+", "open:A", "report:A=ok", "bind:B-", "unseal:B",
                "open:B", "report:B=ok",
        };
        (void) state;
        run("wait");
        expect_events(want, sizeof(want) / sizeof(want[0]));
}

/* A hook that asks again after the volumes before it were opened is a
 * fault, not a loop: the volume is refused, its key never unsealed. */
static void test_asked_twice(void **state) {
        static const char *const want[] = {
                "bind:A-", "unseal:A", "bind:B+", "open:A", "report:A=ok", "bind:B-",
                "report:B=the binding check asked twice for the volumes before it",
        };
        (void) state;
        run("always");
        expect_events(want, sizeof(want) / sizeof(want[0]));
}

/* A refusal is reported as the volume's TPM failure, before any Unseal. */
static void test_refused(void **state) {
        static const char *const want[] = {
                "bind:A-", "unseal:A", "bind:B+", "report:B=bound behind keys not opened before it", "open:A",
                "report:A=ok",
        };
        (void) state;
        run("refuse");
        expect_events(want, sizeof(want) / sizeof(want[0]));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bound_behind_same_batch),
                cmocka_unit_test(test_asked_twice),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_opened_by_person),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
