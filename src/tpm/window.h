/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Signed phase windows (shared spec trust-chain.md): PCR 11 moves with each
 * phase word, and systemd-measure signs one policy per phase path. If one
 * is signed for the PCR 11 value after leave-initrd, the final OS, and
 * whoever roots it, can unseal the volume keys again. */

#include <stdbool.h>
#include <stdint.h>

#include "pcrsig.h"
#include "token.h"
#include "tpm2.h"

/* The phase paths systemd-measure signs by default, in boot order. */
#define WINDOW_N_PATHS 4
extern const char *const window_paths[WINDOW_N_PATHS];

struct window_path {
        uint8_t pcr11[32];      /* sha256 PCR 11 after the path */
        uint8_t policy[32];     /* PolicyPCR(sha256, PCR 11 = that value) from zero */
};

/* Every path's PCR 11 and policy, PCR 11 starting at `base` (what it held
 * before enter-initrd: zero on a plain boot, the sections on a UKI). */
int window_paths_from(const uint8_t base[32], struct window_path out[WINDOW_N_PATHS]);
/* The path whose policy `pol` is; -1 when none. */
int window_path_of(const struct window_path paths[WINDOW_N_PATHS], const uint8_t pol[32]);
/* Is the path's PCR 11 the one the final OS runs with (past leave-initrd)? */
bool window_path_after_handoff(int path);

/* From best to worst; a volume takes the worst of its tokens. */
enum window_verdict {
        WINDOW_CLOSED,          /* nothing signed after leave-initrd */
        WINDOW_LATCHED,         /* signed after leave-initrd, but the token also
                                 * binds literal PCR 15, which the volume-key
                                 * latch moves before leave-initrd */
        WINDOW_UNKNOWN,         /* entries for no known phase path (no base, another
                                 * image, other PCRs) */
        WINDOW_OPEN,            /* unsealable after hand-off */
};

#define WINDOW_MAX_ENTRIES 16
struct window_entry {
        size_t index;           /* in the signature file's sha256 array */
        int path;               /* window_paths index, -1: unknown */
};

/* One token, judged offline against a signature file. */
struct window_token {
        uint32_t signed_mask, literal_mask;
        char fingerprint[65];
        struct window_entry entries[WINDOW_MAX_ENTRIES];  /* by the token's key, for its PCRs */
        size_t n_entries;
        int open_entry;         /* entries[] index signed after leave-initrd, -1 */
        enum window_verdict verdict;
};

/* paths NULL: the PCR 11 base is not known, every entry is "unknown". */
int window_judge_token(const struct tpm2_token *t, struct json_object *sig, const struct window_path *paths,
                       struct window_token *ret, char **why);

/* With the TPM, now: can the token unseal with the PCR values it has? Its
 * signed PCRs' current values must be signed by its key, and its literal
 * PCRs must still hold the values it was sealed to (the policy computed
 * from them is its tpm2-policy-hash). WINDOW_OPEN, WINDOW_LATCHED (signed,
 * but a literal PCR moved) or WINDOW_CLOSED. */
int window_token_now(struct tpm2_ctx *c, const struct tpm2_token *t, struct json_object *sig,
                     enum window_verdict *ret, char **why);

/* A token with literal PCRs only stays unsealable while they do not move. */
#define WINDOW_LITERAL_REMEDY \
        "enroll it with the signed PCR 11 policy and PCR 15: systemd-cryptenroll --tpm2-public-key-pcrs=11 --tpm2-pcrs=15"

