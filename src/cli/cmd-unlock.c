/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "commands.h"
#include "log.h"
#include "luks.h"
#include "unlock.h"
#include "explain.h"

/* usi-init unlock: the boot's unlock path, run by hand. Each volume gets
 * exactly one line: how it was unlocked, or why not. */

#define MAX_SIGNATURES 16

struct unlock_cli {
        bool check;
        const char *name;
        const char *tcti;
        const char *signatures[MAX_SIGNATURES + 1];
        size_t n_signatures;
        const char *pin_file;
        const char *key_file;
        bool passphrase;
        unsigned timeout_ms;
        bool explain;                   /* signed phase windows, nothing unsealed */
        const char *pcr11_base;
        const char *state_file;
};

static void unlock_help(void) {
        printf("usage: usi-init unlock --check [--tpm2-device=TCTI] [--signature=FILE] [--pin-file=FILE]\n"
               "                       [--key-file=FILE] [--passphrase [--timeout=SEC]] IMAGE_OR_DEVICE...\n"
               "       usi-init unlock --name=NAME [OPTIONS] DEVICE\n"
               "       usi-init unlock --check --explain [--signature=FILE] [--pcr11-base=HEX|tpm]\n"
               "                       [--state-file=FILE] [--tpm2-device=TCTI] IMAGE_OR_DEVICE...\n"
               "Unseal the key of each LUKS2 volume through its systemd-tpm2 tokens and\n"
               "check it against the token's keyslot (--check, no device-mapper needed) or\n"
               "activate the volume as /dev/mapper/NAME. The fallbacks are tried only after\n"
               "the TPM failed for every volume: --key-file, then --passphrase (read from\n"
               "standard input, echo off on a terminal, --timeout seconds, default 120).\n"
               "One line per volume; exit 1 if any failed.\n"
               "--explain unseals nothing: it names the phase path each signature entry\n"
               "signs for the tokens' keys (PCR 11 from --pcr11-base, the TPM's PCR 11 now,\n"
               "or this boot's record in state.json) and whether the keys stay unsealable\n"
               "after hand-off: exit 0 no, 3 yes, 4 unknown, 1 on errors.\n");
}

static int parse_args(int argc, char **argv, struct unlock_cli *a) {
        static const struct option opts[] = {
                { "check",       no_argument,       NULL, 'c' },
                { "name",        required_argument, NULL, 'n' },
                { "tpm2-device", required_argument, NULL, 't' },
                { "signature",   required_argument, NULL, 's' },
                { "pin-file",    required_argument, NULL, 'p' },
                { "key-file",    required_argument, NULL, 'k' },
                { "passphrase",  no_argument,       NULL, 'P' },
                { "timeout",     required_argument, NULL, 'T' },
                { "explain",     no_argument,       NULL, 'e' },
                { "pcr11-base",  required_argument, NULL, 'B' },
                { "state-file",  required_argument, NULL, 'S' },
                { "help",        no_argument,       NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "cn:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        a->check = true;
                        break;
                case 'n':
                        a->name = optarg;
                        break;
                case 't':
                        a->tcti = optarg;
                        break;
                case 's':
                        if (a->n_signatures == MAX_SIGNATURES)
                                return log_error("unlock: at most %d --signature files", MAX_SIGNATURES), -EINVAL;
                        a->signatures[a->n_signatures++] = optarg;
                        break;
                case 'p':
                        a->pin_file = optarg;
                        break;
                case 'k':
                        a->key_file = optarg;
                        break;
                case 'P':
                        a->passphrase = true;
                        break;
                case 'T': {
                        unsigned sec;
                        if (safe_atou(optarg, &sec) < 0 || sec > 24 * 3600)
                                return log_error("unlock: --timeout wants seconds, not '%s'", optarg), -EINVAL;
                        a->timeout_ms = sec * 1000u;
                        break;
                }
                case 'e':
                        a->explain = true;
                        break;
                case 'B':
                        a->pcr11_base = optarg;
                        break;
                case 'S':
                        a->state_file = optarg;
                        break;
                case 'h':
                        unlock_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind >= argc)
                return log_error("unlock: no image or device given"), -EINVAL;
        if (a->check == !!a->name)
                return log_error("unlock: give exactly one of --check and --name"), -EINVAL;
        if (a->explain && !a->check)
                return log_error("unlock: --explain goes with --check"), -EINVAL;
        if ((a->pcr11_base || a->state_file) && !a->explain)
                return log_error("unlock: --pcr11-base and --state-file go with --explain"), -EINVAL;
        if (a->name && argc - optind != 1)
                return log_error("unlock: --name activates exactly one device"), -EINVAL;
        return 1;
}

struct volume {
        const char *path;
        struct crypt_device *cd;
        char *why;
        bool done;
};

/* TPM first, for every volume; one TPM context for all of them. The keys
 * are unsealed one after the other (one TPM), then every keyslot is opened
 * at once (the PBKDF2 work overlaps). */
static void unlock_all_tpm2(struct volume *v, size_t n, const struct unlock_cli *a, const struct secret *pin) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *tpm_why = NULL;
        struct tpm2_unseal_args ua = { .signatures = a->signatures, .pin = pin };
        _cleanup_free_ struct luks_key *keys = calloc(n, sizeof(*keys));
        _cleanup_free_ struct luks_job *jobs = calloc(n, sizeof(*jobs));
        _cleanup_free_ size_t *job_volume = calloc(n, sizeof(*job_volume));
        bool tried_open = false;
        size_t n_jobs = 0;

        if (!keys || !jobs || !job_volume) {
                log_error("out of memory");
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (luks_load(v[i].path, NULL, &v[i].cd, &v[i].why) < 0)
                        continue;
                if (luks_count_tpm2_tokens(v[i].cd) == 0) {
                        why_set(&v[i].why, ENOENT, "no systemd-tpm2 token");
                        continue;
                }
                /* Open the TPM only once a volume needs it. */
                if (!tried_open) {
                        tried_open = true;
                        (void) tpm2_open(a->tcti, &tpm, &tpm_why);
                }
                if (!tpm) {
                        why_set(&v[i].why, ENODEV, "%s", strempty(tpm_why));
                        continue;
                }
                ua.last = i == n - 1;  /* the last volume ends the TPM session */
                if (luks_unseal_tpm2(v[i].cd, tpm, &ua, &keys[n_jobs], &v[i].why) < 0)
                        continue;
                jobs[n_jobs] = (struct luks_job) { .cd = v[i].cd, .name = a->name, .key = &keys[n_jobs] };
                job_volume[n_jobs++] = i;
        }
        if (tpm) {
                const struct tpm2_stats *s = tpm2_get_stats(tpm);
                log_debug("tpm2: %u primary key(s) created, %u persistent parent(s) used, %u salted session(s), "
                          "%u signature(s) verified, %u ticket(s) reused, %u unsealed",
                          s->primaries_created, s->srk_used, s->salted_sessions, s->signatures_verified,
                          s->tickets_reused, s->unsealed);
        }
        if (n_jobs)
                (void) luks_activate_all(jobs, n_jobs);
        for (size_t j = 0; j < n_jobs; j++) {
                struct volume *vol = &v[job_volume[j]];
                if (jobs[j].result >= 0) {
                        printf("%s: unlocked by token %d (keyslot %d)\n", vol->path, keys[j].token, keys[j].keyslot);
                        vol->done = true;
                } else {
                        why_set(&vol->why, jobs[j].result, "token %d: %s", keys[j].token, strempty(jobs[j].why));
                }
                free(jobs[j].why);
                luks_key_done(&keys[j]);
        }
}

static void unlock_all_keyfile(struct volume *v, size_t n, const struct unlock_cli *a) {
        _cleanup_secret_ struct secret *key = NULL;
        _cleanup_free_ char *file_why = NULL;
        int r;

        r = secret_read_file(a->key_file, KEYFILE_MAX, false, &key, &file_why);
        for (size_t i = 0; i < n; i++) {
                struct luks_result res;
                _cleanup_free_ char *why = NULL;

                if (v[i].done || !v[i].cd)
                        continue;
                if (r < 0) {
                        why_prefix(&v[i].why, "key file: %s; TPM", why_or(file_why));
                        continue;
                }
                if (luks_unlock_secret(v[i].cd, key, a->name, NULL, &res, &why) >= 0) {
                        printf("%s: unlocked by key file (keyslot %d)\n", v[i].path, res.keyslot);
                        v[i].done = true;
                } else
                        why_prefix(&v[i].why, "key file: %s; TPM", strempty(why));
        }
}

static void unlock_all_passphrase(struct volume *v, size_t n, const struct unlock_cli *a) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_secret_ struct secret *pass = NULL;
                _cleanup_free_ char *why = NULL;
                struct luks_result res;
                char prompt[4200];
                int r;

                if (v[i].done || !v[i].cd)
                        continue;
                snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", v[i].path);
                r = unlock_prompt(STDIN_FILENO, STDERR_FILENO, prompt, a->timeout_ms, &pass);
                if (r == -ETIME)
                        why_prefix(&v[i].why, "no passphrase typed within %u s; TPM", a->timeout_ms / 1000);
                else if (r < 0)
                        why_prefix(&v[i].why, "no passphrase read (%s); TPM", strerror(-r));
                else if (luks_unlock_secret(v[i].cd, pass, a->name, NULL, &res, &why) >= 0) {
                        printf("%s: unlocked by passphrase (keyslot %d)\n", v[i].path, res.keyslot);
                        v[i].done = true;
                } else
                        why_prefix(&v[i].why, "passphrase: %s; TPM", strempty(why));
        }
}

int cmd_unlock(int argc, char **argv) {
        struct unlock_cli a = { .timeout_ms = UNLOCK_PROMPT_TIMEOUT_MS };
        _cleanup_secret_ struct secret *pin = NULL;
        struct volume *v;
        size_t n;
        int r, ret = 0;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : 0;
        if (a.explain)
                return window_explain(&(struct window_explain_args) {
                                .signatures = a.signatures, .tcti = a.tcti, .pcr11_base = a.pcr11_base,
                                .state_file = a.state_file, .images = (const char *const *) argv + optind,
                                .n_images = (size_t) (argc - optind),
                        }, stdout);
        if (a.pin_file) {
                _cleanup_free_ char *why = NULL;
                r = secret_read_file(a.pin_file, PIN_MAX, true, &pin, &why);
                if (r < 0) {
                        log_error("unlock: PIN file: %s", why);
                        return 1;
                }
        }
        n = (size_t) (argc - optind);
        v = calloc(n, sizeof(*v));
        if (!v)
                return log_error("out of memory"), 1;
        for (size_t i = 0; i < n; i++)
                v[i].path = argv[optind + i];

        unlock_all_tpm2(v, n, &a, pin);
        if (a.key_file)
                unlock_all_keyfile(v, n, &a);
        if (a.passphrase)
                unlock_all_passphrase(v, n, &a);

        for (size_t i = 0; i < n; i++) {
                if (!v[i].done) {
                        log_error("%s: %s", v[i].path, v[i].why ? v[i].why : "not unlocked");
                        ret = 1;
                }
                luks_free(v[i].cd);
                free(v[i].why);
        }
        free(v);
        return ret;
}
