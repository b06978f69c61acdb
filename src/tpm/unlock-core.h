/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"     /* enum unlock_method */
#include "pcr15.h"      /* struct pcr15_digests */
#include "secret.h"
#include "tpm2.h"

/* The one unlock batch, for the boot's unlock stage (src/boot/unlock.c) and for
 * `usi-init unlock` (src/cli/cmd-unlock.c). It knows nothing of its caller:
 * it gets volumes, the methods each allows, and where keys come from, and
 * tells what happened through its report callback; it prints nothing.
 *
 * The order (trust-chain rules 3 and 4):
 *  1. every header is read and judged (luks_load()) before any key is
 *     tried; a refused header stops the batch before anything is unsealed,
 *     for that volume or another;
 *  2. the TPM for every volume that lists it, all through one connection
 *     (one parent, one salted session, one verified signature ticket); the
 *     keys are unsealed one after the other, then every keyslot is opened
 *     at once, so the volumes' PBKDF2 work overlaps;
 *  3. only then each volume's fallbacks, in its list's order.
 *
 * The session rule: tpm2_unseal() hands the session to the next token only
 * after a successful Unseal and flushes it after any token that did not
 * unseal. The batch adds which Unseal ends it: the last volume that will
 * actually reach the TPM (its header read, a systemd-tpm2 token on it), and
 * only in a batch its caller calls final; otherwise tpm2_close() flushes it. */

struct crypt_device;

/* One attempt, failed or successful, for the report callback. */
struct unlock_attempt {
        enum unlock_method method;      /* a header that could not be read: the
                                         * volume's first method */
        int token;                      /* TPM2: the token whose key was used; else -1 */
        int keyslot;                    /* on success */
        int error;                      /* 0, or a negative errno;
                                         * -LUKS_HEADER_REFUSED: the header was refused */
        const char *why;                /* on failure: one sentence, valid during the call */
};

struct unlock_volume {
        /* in */
        const char *path;               /* block device or image file */
        const char *name;               /* device-mapper name; NULL: check the key only */
        const char *label;              /* how a prompt names it: "Passphrase for LABEL: " */
        enum unlock_method methods[_UNLOCK_MAX];  /* in the order allowed */
        size_t n_methods;

        /* out */
        bool opened;
        enum unlock_method opened_by;
        int token, keyslot;             /* token -1 unless opened by one */
        bool measured;                  /* pcr15 holds the volume key's HMACs */
        uint64_t unsealed_ms;           /* CLOCK_BOOTTIME ms when the TPM gave its key; 0: never */
        struct pcr15_digests pcr15;

        /* the batch's own, during a run */
        struct crypt_device *cd;        /* the judged header */
        int tpm_tokens;                 /* systemd-tpm2 tokens on it; -1: header not read */
};

/* How a passphrase or recovery key is asked for. */
struct unlock_prompt_settings {
        int in_fd, out_fd;              /* in_fd < 0: PROMPT_CONSOLE, opened per volume */
        unsigned timeout_ms;
        unsigned tries;                 /* > 1: "That did not open the volume." between tries */
};

#define UNLOCK_PROMPT_CONSOLE "/dev/console"

struct unlock_batch {
        const char *const *ciphers;     /* luks_load()'s allow-list; NULL: the default */

        /* The TPM connection, asked for once, when the first volume with a
         * systemd-tpm2 token needs it; a failure is kept for every volume. */
        int (*tpm)(void *userdata, struct tpm2_ctx **ret, char **why);
        const char *const *signatures;  /* as struct tpm2_unseal_args */
        bool signatures_complete;
        const struct secret *pin;       /* NULL: none */
        bool final;                     /* no unseal follows on this connection */

        /* The key file of a volume; *why names the file and is used as is. */
        int (*read_keyfile)(void *userdata, const struct unlock_volume *v, struct secret **ret, char **why);
        struct unlock_prompt_settings prompt;

        bool measure;                   /* keep the PCR 15 HMACs of what opens (src/tpm/pcr15.h) */

        /* Volume binding (the PCR 15 chain, docs/ARCHITECTURE.md), NULL:
         * none. Called before the Unseal of each volume with a
         * systemd-tpm2 token, with its judged header (v->cd) and the TPM.
         * `unopened_before`: volumes of this batch were unsealed and not
         * yet opened, so their keys' digests are not known. It returns 0
         * to go on, 1 to have those volumes opened (and reported) first and
         * be asked again, -ENOMEM, or another negative errno with *why to
         * refuse the volume's TPM attempt (reported as its failure). */
        int (*bind)(void *userdata, struct unlock_volume *v, struct tpm2_ctx *tpm, bool unopened_before, char **why);

        /* A person's key (a passphrase or recovery key, in the form that
         * opened the keyslot) opened volume v: called right after, while the
         * key is still held, never for a key file. NULL: none. Only -ENOMEM
         * stops the batch; any other outcome is the callback's to report. */
        int (*opened_by_person)(void *userdata, struct unlock_volume *v, enum unlock_method m,
                                const struct secret *key);

        /* Called once per attempt, in the order made; a negative return
         * stops the batch with that error. */
        int (*report)(void *userdata, struct unlock_volume *v, const struct unlock_attempt *a);
        void *userdata;
};

/* One attempt of a batch, in the order made; ends_session marks the Unseal
 * that ends the TPM session. */
struct unlock_step {
        size_t volume;                  /* index into the batch's volumes */
        enum unlock_method method;
        bool ends_session;
};

/* The attempts for the volumes whose headers were read (tpm_tokens >= 0):
 * TPM2 for each volume that lists it, in order, then each volume's
 * fallbacks in its list's order. Pure: looks at methods and tpm_tokens
 * only. *ret is malloc'ed. */
int unlock_steps(const struct unlock_volume *v, size_t n, bool final, struct unlock_step **ret, size_t *ret_n);

/* Run the batch. Returns 0 (whatever opened), -LUKS_HEADER_REFUSED after a
 * refused header was reported, -ENOMEM, or a report callback's error. */
int unlock_run(const struct unlock_batch *b, struct unlock_volume *v, size_t n);

/* Read a passphrase or recovery key from in_fd (echo off on a terminal),
 * prompting on out_fd. -ETIME after timeout_ms, -ENODATA on empty input. */
int unlock_prompt(int in_fd, int out_fd, const char *prompt, unsigned timeout_ms, struct secret **ret);

/* How long a console prompt waits for a passphrase or recovery key. */
#define UNLOCK_PROMPT_TIMEOUT_MS (120u * 1000u)
#define UNLOCK_PROMPT_TRIES 3
