/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "encoding.h"
#include "pcrsig.h"
#include "policy.h"
#include "token.h"
#include "tpmtest.h"
#include "window.h"

/* uki-phases.txt: systemd-measure calculate for the fixture's UKI sections,
 * first with --phase= (the sections only: the base), then with its default
 * phase list, one "11:sha256=HEX" line each. */
static void read_phases(uint8_t base[32], uint8_t want[WINDOW_N_PATHS][32]) {
        _cleanup_free_ char *text = tpm_fixture("uki-phases.txt");
        char *line = text, *nl;

        for (int i = -1; i < WINDOW_N_PATHS; i++, line = nl + 1) {
                nl = strchr(line, '\n');
                assert_non_null(nl);
                *nl = 0;
                assert_true(startswith(line, "11:sha256="));
                assert_int_equal(hex_parse(line + strlen("11:sha256="), i < 0 ? base : want[i], 32, NULL), 0);
        }
}

/* Each phase path's PCR 11 is what systemd-measure predicts for it. */
static void test_paths_equal_systemd_measure(void **state) {
        uint8_t base[32], want[WINDOW_N_PATHS][32];
        struct window_path paths[WINDOW_N_PATHS];

        (void) state;
        read_phases(base, want);
        assert_int_equal(window_paths_from(base, paths), 0);
        for (int i = 0; i < WINDOW_N_PATHS; i++) {
                uint8_t pol[32] = {};
                assert_memory_equal(paths[i].pcr11, want[i], 32);
                assert_int_equal(policy_pcr(pol, TPM2_ALG_SHA256, UINT32_C(1) << 11, want[i], 32), 0);
                assert_memory_equal(paths[i].policy, pol, 32);
                assert_int_equal(window_path_of(paths, pol), i);
        }
        assert_false(window_path_after_handoff(0));
        for (int i = 1; i < WINDOW_N_PATHS; i++)
                assert_true(window_path_after_handoff(i));
        assert_false(window_path_after_handoff(-1));
}

struct fx {
        struct tpm2_token token;
        EVP_PKEY *signer;       /* made here: the token's tpm2_pubkey is its public half */
        struct window_path paths[WINDOW_N_PATHS];
        char fp[65];
};

static int setup(void **state) {
        _cleanup_free_ char *json = tpm_fixture("token-v252-signed.json");
        _cleanup_free_ char *pem = tpm_fixture("sign-pub.pem");
        uint8_t base[32], want[WINDOW_N_PATHS][32];
        struct pcrsig_key key;
        struct fx *f = calloc(1, sizeof(*f));

        assert_int_equal(tpm2_token_parse(json, &f->token, NULL), 0);
        /* Entries are verified before a verdict: sign them with a key made
         * here, which the token then names. */
        f->signer = EVP_RSA_gen(2048);
        assert_non_null(f->signer);
        {
                BIO *b = BIO_new(BIO_s_mem());
                char *p;
                long n;
                assert_int_equal(PEM_write_bio_PUBKEY(b, f->signer), 1);
                n = BIO_get_mem_data(b, &p);
                free(f->token.pubkey_pem);
                f->token.pubkey_pem = strndup(p, (size_t) n);
                f->token.pubkey_pem_size = (size_t) n;
                BIO_free(b);
        }
        assert_int_equal(pcrsig_key_from_pem(f->token.pubkey_pem, f->token.pubkey_pem_size, &key, NULL), 0);
        (void) pem;
        hex_string(key.fingerprint, 32, f->fp);
        read_phases(base, want);
        assert_int_equal(window_paths_from(base, f->paths), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        tpm2_token_done(&f->token);
        EVP_PKEY_free(f->signer);
        free(f);
        return 0;
}

/* A signature file with one entry per listed path (-1: a foreign value),
 * by the fixture's key, plus one by another key for the last path. */
static json_object *signature(const struct fx *f, const int *paths, size_t n) {
        json_object *o = json_object_new_object(), *arr = json_object_new_array();

        for (size_t i = 0; i <= n; i++) {
                json_object *e = json_object_new_object(), *pcrs = json_object_new_array();
                static const uint8_t foreign[32] = { 1, 2, 3 };
                int path = i < n ? paths[i] : WINDOW_N_PATHS - 1;
                char pol[65];

                json_object_array_add(pcrs, json_object_new_int(11));
                json_object_object_add(e, "pcrs", pcrs);
                json_object_object_add(e, "pkfp", json_object_new_string(i < n ? f->fp : "00ff"));
                const uint8_t *bin = path >= 0 ? f->paths[path].policy : foreign;
                uint8_t s[512];
                char b64[1024];
                size_t slen = sizeof(s);
                EVP_MD_CTX *md = EVP_MD_CTX_new();

                hex_string(bin, 32, pol);
                json_object_object_add(e, "pol", json_object_new_string(pol));
                assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, f->signer), 1);
                assert_int_equal(EVP_DigestSign(md, s, &slen, bin, 32), 1);
                EVP_MD_CTX_free(md);
                b64[base64_encode(s, slen, b64)] = 0;
                json_object_object_add(e, "sig", json_object_new_string(b64));
                json_object_array_add(arr, e);
        }
        json_object_object_add(o, "sha256", arr);
        return o;
}

static void test_enter_initrd_only_is_closed(void **state) {
        struct fx *f = *state;
        json_object *sig = signature(f, (const int[]) { 0 }, 1);
        struct window_token w;

        assert_int_equal(window_judge_token(&f->token, sig, f->paths, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_CLOSED);
        assert_int_equal(w.n_entries, 1);    /* the other key's entry is not this token's */
        assert_int_equal(w.entries[0].index, 0);
        assert_int_equal(w.entries[0].path, 0);
        assert_int_equal(w.open_entry, -1);
        assert_string_equal(w.fingerprint, f->fp);
        json_object_put(sig);
}

static void test_leave_initrd_signed_is_open(void **state) {
        struct fx *f = *state;
        json_object *sig = signature(f, (const int[]) { 0, 1 }, 2);
        struct window_token w;

        assert_int_equal(window_judge_token(&f->token, sig, f->paths, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_OPEN);
        assert_int_equal(w.n_entries, 2);
        assert_int_equal(w.entries[1].path, 1);
        assert_int_equal(w.open_entry, 1);

        /* Literal PCR 15 too: the volume-key latch closes it. */
        f->token.pcr_mask = UINT32_C(1) << 15;
        assert_int_equal(window_judge_token(&f->token, sig, f->paths, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_LATCHED);
        f->token.pcr_mask = 0;
        json_object_put(sig);
}

/* systemd-measure's default: all four paths. */
/* A leave-initrd entry whose signature does not verify opens nothing: the
 * verdict is given without the TPM checking it. */
static void test_corrupted_sig_is_not_open(void **state) {
        struct fx *f = *state;
        json_object *sig = signature(f, (const int[]) { 0, 1 }, 2), *e, *s;
        struct window_token w;
        char *b64;

        e = json_object_array_get_idx(json_object_object_get(sig, "sha256"), 1);
        s = json_object_object_get(e, "sig");
        b64 = strdup(json_object_get_string(s));
        b64[10] = b64[10] == 'A' ? 'B' : 'A';
        json_object_set_string(s, b64);
        free(b64);
        assert_int_equal(window_judge_token(&f->token, sig, f->paths, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_CLOSED);
        assert_int_equal(w.n_entries, 1);
        json_object_put(sig);
}

static void test_default_phases_are_open(void **state) {
        struct fx *f = *state;
        json_object *sig = signature(f, (const int[]) { 0, 1, 2, 3 }, 4);
        struct window_token w;

        assert_int_equal(window_judge_token(&f->token, sig, f->paths, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_OPEN);
        for (int i = 0; i < 4; i++)
                assert_int_equal(w.entries[i].path, i);
        json_object_put(sig);
}

static void test_unknown(void **state) {
        struct fx *f = *state;
        json_object *sig = signature(f, (const int[]) { 0, -1 }, 2);
        struct window_token w;

        /* An entry for no path from this base: not decidable. */
        assert_int_equal(window_judge_token(&f->token, sig, f->paths, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_UNKNOWN);
        assert_int_equal(w.entries[1].path, -1);
        json_object_put(sig);
        /* No base: no entry can be placed. */
        sig = signature(f, (const int[]) { 0 }, 1);
        assert_int_equal(window_judge_token(&f->token, sig, NULL, &w, NULL), 0);
        assert_int_equal(w.verdict, WINDOW_UNKNOWN);
        json_object_put(sig);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths_equal_systemd_measure),
                cmocka_unit_test_setup_teardown(test_enter_initrd_only_is_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_leave_initrd_signed_is_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupted_sig_is_not_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_default_phases_are_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
