/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the PCR signature file (tpm2-pcr-signature.json) as its
 * consumers read it: pcrsig_load() from a file (src/tpm/pcrsig.c), then
 * pcrsig_find(), pcrsig_policies() and pcrsig_policy_signed() (the hand-off
 * check of src/boot/handoff.c), and the phase naming of `unlock --check
 * --explain` and the hand-off audit (window_judge_token(), src/tpm/window.c).
 *
 * The input is up to three parts split at NUL bytes: a PEM public key (the
 * token's tpm2_pubkey), the signature file, and the PCR 11 base as 64 hex
 * digits (state.json "pcr11_base"). Without a NUL the whole input is the
 * signature file, judged without a key. The file is written to a tmpfs
 * directory (/dev/shm, else TMPDIR) and loaded from there. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encoding.h"
#include "fuzz-tmpdir.h"
#include "pcrsig.h"
#include "token.h"
#include "window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char file[128];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_tmpdir("fuzz-pcrsig");
        snprintf(file, sizeof(file), "%s/tpm2-pcr-signature.json", fuzz_dir);
        return 0;
}

/* What `--explain` prints per entry, and what the audit counts. */
static void name_phases(const struct window_token *w) {
        if (w->n_entries > WINDOW_MAX_ENTRIES || w->open_entry >= (int) w->n_entries)
                abort();
        for (size_t i = 0; i < w->n_entries; i++) {
                int p = w->entries[i].path;
                if (p < -1 || p >= WINDOW_N_PATHS)
                        abort();
                (void) strlen(p >= 0 ? window_paths[p] : "unknown");
                (void) window_path_after_handoff(p);
        }
}

static void judge(const char *pem, size_t pem_size, struct json_object *sig, const struct window_path *paths) {
        static const uint32_t masks[] = { UINT32_C(1) << 11, UINT32_C(1) << 7 | UINT32_C(1) << 11, 0 };
        struct pcrsig_policy pols[PCRSIG_MAX_ENTRIES];
        struct pcrsig_key key = {}, *k = NULL;
        char *why = NULL;

        if (pem && pcrsig_key_from_pem(pem, pem_size, &key, &why) >= 0)
                k = &key;
        free(why);
        why = NULL;
        for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
                static const TPMI_ALG_HASH banks[] = { TPM2_ALG_SHA256, TPM2_ALG_SHA1, TPM2_ALG_SHA384, TPM2_ALG_SHA512, 0x1234 };
                for (size_t b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
                        TPMT_SIGNATURE ts;
                        size_t n = pcrsig_policies(sig, banks[b], masks[m], k, pols, PCRSIG_MAX_ENTRIES);

                        if (n > PCRSIG_MAX_ENTRIES)
                                abort();
                        for (size_t i = 0; i < n; i++)
                                if (!pcrsig_policy_signed(sig, banks[b], masks[m], pols[i].pol))
                                        abort();
                        /* The first signed policy is found, a zero one is not (or is refused). */
                        (void) pcrsig_find(sig, banks[b], masks[m], &key, n ? pols[0].pol : (const uint8_t[32]) {}, &ts, &why);
                        free(why);
                        why = NULL;
                }
        }
        /* The hand-off check: each phase path's policy, signed by anyone. */
        for (size_t i = 0; paths && i < WINDOW_N_PATHS; i++)
                (void) pcrsig_policy_signed(sig, TPM2_ALG_SHA256, UINT32_C(1) << 11, paths[i].policy);

        if (pem) {
                /* A token with this key, signed PCR 11, with and without literal PCR 15. */
                for (int literal = 0; literal < 2; literal++) {
                        struct tpm2_token t = {
                                .pubkey_pem = (char *) pem,
                                .pubkey_pem_size = pem_size,
                                .pubkey_pcr_mask = UINT32_C(1) << 11,
                                .pcr_mask = literal ? UINT32_C(1) << 15 : 0,
                        };
                        struct window_token w;

                        if (window_judge_token(&t, sig, paths, &w, &why) >= 0)
                                name_phases(&w);
                        free(why);
                        why = NULL;
                        if (window_judge_token(&t, sig, NULL, &w, &why) >= 0)
                                name_phases(&w);
                        free(why);
                        why = NULL;
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, 0, size), *json = data, *base_hex = NULL;
        size_t json_size = size, base_size = 0;
        char *pem = NULL, *why = NULL;
        size_t pem_size = 0;
        const char *paths_list[] = { file, NULL }, *used = NULL;
        struct json_object *sig = NULL;
        struct window_path paths[WINDOW_N_PATHS];
        uint8_t base[32] = {};

        if (nul) {
                pem_size = (size_t) (nul - data);
                pem = strndup((const char *) data, pem_size);
                if (!pem)
                        return 0;
                json = nul + 1;
                json_size = size - pem_size - 1;
                if ((nul = memchr(json, 0, json_size))) {
                        base_hex = nul + 1;
                        base_size = json_size - (size_t) (nul - json) - 1;
                        json_size = (size_t) (nul - json);
                }
        }
        if (base_hex) {
                char *h = strndup((const char *) base_hex, base_size);
                if (!h || hex_parse(h, base, sizeof(base), NULL) < 0)
                        memset(base, 0, sizeof(base));
                free(h);
        }
        if (fuzz_tmpdir_write("tpm2-pcr-signature.json", json, json_size) < 0 || window_paths_from(base, paths) < 0) {
                free(pem);
                return 0;
        }
        if (pcrsig_load(paths_list, false, &sig, &used, &why) >= 0) {
                if (used != file)
                        abort();
                judge(pem, pem_size, sig, paths);
                json_object_put(sig);
        } else if (!why)
                abort();
        free(why);
        free(pem);
        return 0;
}
