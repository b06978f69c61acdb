/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "commands.h"
#include "log.h"
#include "luks-header.h"
#include "unlock-core.h"
#include "explain.h"
#include "preflight.h"

/* usi-init unlock: the boot's unlock path, run by hand. Each volume gets
 * exactly one line: how it was unlocked, or why not. */

#define MAX_SIGNATURES 16

struct unlock_cli {
        bool check;
        const char *name;
        const char *tcti;
        unsigned tpm_timeout_ms;        /* each TPM command's deadline */
        const char *signatures[MAX_SIGNATURES + 1];
        size_t n_signatures;
        const char *pin_file;
        const char *key_file;
        bool passphrase;
        unsigned timeout_ms;
        bool explain;                   /* signed phase windows, nothing unsealed */
        const char *pcr11_base;
        const char *state_file;
        const char *uki;                /* the upgrade preflight */
};

static void unlock_help(void) {
        printf("usage: usi-init unlock --check [--tpm2-device=TCTI] [--tpm2-timeout=SEC] [--signature=FILE]\n"
               "                       [--pin-file=FILE] [--key-file=FILE] [--passphrase [--timeout=SEC]] IMAGE_OR_DEVICE...\n"
               "       usi-init unlock --name=NAME [OPTIONS] DEVICE\n"
               "       usi-init unlock --check --explain [--signature=FILE] [--pcr11-base=HEX|tpm]\n"
               "                       [--state-file=FILE] [--tpm2-device=TCTI] IMAGE_OR_DEVICE...\n"
               "       usi-init unlock --check --explain --uki=NEW.efi [--tpm2-device=TCTI]\n"
               "                       [--state-file=FILE] [IMAGE_OR_DEVICE...]\n"
               "Unseal the key of each LUKS2 volume through its systemd-tpm2 tokens and\n"
               "check it against the token's keyslot (--check, no device-mapper needed) or\n"
               "activate the volume as /dev/mapper/NAME. The fallbacks are tried only after\n"
               "the TPM failed for every volume: --key-file, then --passphrase (read from\n"
               "standard input, echo off on a terminal, --timeout seconds, default 120).\n"
               "One line per volume; exit 1 if any failed.\n"
               "--tpm2-timeout: how long each TPM command may take before the TPM is given\n"
               "up (default 30, 0: no limit), as tpm.timeout does for the boot.\n"
               "--explain unseals nothing: it names the phase path each signature entry\n"
               "signs for the tokens' keys (PCR 11 from --pcr11-base, the TPM's PCR 11 now,\n"
               "or this boot's record in state.json) and whether the keys stay unsealable\n"
               "after hand-off: exit 0 no, 3 yes, 4 unknown, 1 on errors.\n"
               "--uki reads a new UKI offline: PCR 11 on each phase path, its .pcrsig entries\n"
               "verified against its .pcrpkey, the image lint, and whether each volume's\n"
               "tokens would open under it, then its hand-off window. No volume named: the\n"
               "ones this boot opened (state.json). --tpm2-device also checks the tokens'\n"
               "literal PCRs against the TPM now (PCR 15 as this boot chained it).\n"
               "Exit 0 when every volume opens, 5 if one would stay locked, 4 when no volume\n"
               "was judged.\n");
}

static int parse_args(int argc, char **argv, struct unlock_cli *a) {
        static const struct option opts[] = {
                { "check",       no_argument,       NULL, 'c' },
                { "name",        required_argument, NULL, 'n' },
                { "tpm2-device", required_argument, NULL, 't' },
                { "tpm2-timeout", required_argument, NULL, 'D' },
                { "signature",   required_argument, NULL, 's' },
                { "pin-file",    required_argument, NULL, 'p' },
                { "key-file",    required_argument, NULL, 'k' },
                { "passphrase",  no_argument,       NULL, 'P' },
                { "timeout",     required_argument, NULL, 'T' },
                { "explain",     no_argument,       NULL, 'e' },
                { "pcr11-base",  required_argument, NULL, 'B' },
                { "state-file",  required_argument, NULL, 'S' },
                { "uki",         required_argument, NULL, 'U' },
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
                case 'D': {
                        unsigned sec;
                        if (safe_atou(optarg, &sec) < 0 || sec > 3600)
                                return log_error("unlock: --tpm2-timeout wants seconds (0 to 3600), not '%s'", optarg),
                                        -EINVAL;
                        a->tpm_timeout_ms = sec * 1000u;
                        break;
                }
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
                case 'U':
                        a->uki = optarg;
                        break;
                case 'h':
                        unlock_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (a->uki && !a->explain)
                return log_error("unlock: --uki goes with --check --explain"), -EINVAL;
        if (optind >= argc && !a->uki)
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

/* Why a volume stayed locked: every failed attempt, in the order made. */
struct cli_reasons {
        strv why;
        enum unlock_method method[_UNLOCK_MAX + 1];
};

/* The CLI's side of the batch: its own TPM connection and the reasons. */
struct cli_run {
        const struct unlock_cli *a;
        struct unlock_volume *v;
        struct cli_reasons *reasons;
        struct tpm2_ctx *tpm;
};

static int cli_tpm(void *userdata, struct tpm2_ctx **ret, char **why) {
        struct cli_run *c = userdata;
        int r = tpm2_open(c->a->tcti, &c->tpm, why);
        if (r >= 0)
                tpm2_set_timeout(c->tpm, c->a->tpm_timeout_ms);
        *ret = c->tpm;
        return r;
}

static int cli_keyfile(void *userdata, const struct unlock_volume *v, struct secret **ret, char **why) {
        struct cli_run *c = userdata;
        _cleanup_free_ char *file_why = NULL;
        int r = secret_read_file(c->a->key_file, KEYFILE_MAX, false, ret, &file_why);
        return r < 0 ? why_set(why, r, "%s", why_or(file_why)) : r;
}

static const char *const cli_method_names[_UNLOCK_MAX] = {
        [UNLOCK_TPM2] = "TPM",
        [UNLOCK_KEYFILE] = "key file",
        [UNLOCK_PASSPHRASE] = "passphrase",
        [UNLOCK_RECOVERY_KEY] = "recovery key",
};

/* Success: the volume's line at once, before any later prompt. */
static int cli_report(void *userdata, struct unlock_volume *v, const struct unlock_attempt *a) {
        struct cli_run *c = userdata;
        struct cli_reasons *re = &c->reasons[v - c->v];

        if (a->error >= 0) {
                if (a->method == UNLOCK_TPM2)
                        printf("%s: unlocked by token %d (keyslot %d)\n", v->path, a->token, a->keyslot);
                else
                        printf("%s: unlocked by %s (keyslot %d)\n", v->path, cli_method_names[a->method], a->keyslot);
                return 0;
        }
        if (re->why.n == _UNLOCK_MAX)
                return 0;
        re->method[re->why.n] = a->method;
        return strv_push(&re->why, a->why);
}

/* A lone reason as it is; several newest first, each named by its method:
 * "key file: ...; TPM: ...". */
static char *cli_reasons_line(const struct cli_reasons *re) {
        _cleanup_free_ char *s = NULL;

        if (re->why.n == 1)
                return strdup(re->why.v[0]);
        for (size_t j = re->why.n; j > 0; j--) {
                char *t = NULL;
                if (asprintf(&t, "%s%s%s: %s", s ? s : "", s ? "; " : "", cli_method_names[re->method[j - 1]],
                             re->why.v[j - 1]) < 0)
                        return NULL;
                free(s);
                s = t;
        }
        return TAKE_PTR(s);
}

int cmd_unlock(int argc, char **argv) {
        struct unlock_cli a = { .timeout_ms = UNLOCK_PROMPT_TIMEOUT_MS, .tpm_timeout_ms = TPM2_TIMEOUT_DEFAULT_MS };
        _cleanup_secret_ struct secret *pin = NULL;
        struct unlock_volume *v;
        struct cli_reasons *reasons;
        struct cli_run c;
        size_t n;
        int r, ret = 0;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : 0;
        if (a.uki)
                return uki_preflight(&(struct preflight_args) {
                                .uki = a.uki, .images = (const char *const *) argv + optind,
                                .n_images = (size_t) (argc - optind), .state_file = a.state_file, .tcti = a.tcti,
                        }, stdout);
        if (a.explain)
                return window_explain(&(struct window_explain_args) {
                                .signatures = a.signatures, .tcti = a.tcti, .pcr11_base = a.pcr11_base,
                                .state_file = a.state_file, .images = (const char *const *) argv + optind,
                                .n_images = (size_t) (argc - optind),
                        }, stdout);
        if (a.pin_file) {
                _cleanup_free_ char *why = NULL;
                r = secret_read_pin(a.pin_file, &pin, &why);
                if (r < 0) {
                        log_error("unlock: PIN file: %s", why);
                        return 1;
                }
        }
        n = (size_t) (argc - optind);
        v = calloc(n + 1, sizeof(*v));
        reasons = calloc(n + 1, sizeof(*reasons));
        if (!v || !reasons) {
                free(v);
                free(reasons);
                return log_error("out of memory"), 1;
        }
        /* Every volume: the TPM, then --key-file, then --passphrase. */
        for (size_t i = 0; i < n; i++) {
                v[i] = (struct unlock_volume) { .path = argv[optind + i], .name = a.name,
                                                .methods = { UNLOCK_TPM2 }, .n_methods = 1 };
                if (a.key_file)
                        v[i].methods[v[i].n_methods++] = UNLOCK_KEYFILE;
                if (a.passphrase)
                        v[i].methods[v[i].n_methods++] = UNLOCK_PASSPHRASE;
        }
        c = (struct cli_run) { .a = &a, .v = v, .reasons = reasons };
        r = unlock_run(&(struct unlock_batch) {
                        .tpm = cli_tpm,
                        .signatures = a.signatures,
                        .pin = pin,
                        .final = true,
                        .read_keyfile = cli_keyfile,
                        .prompt = { .in_fd = STDIN_FILENO, .out_fd = STDERR_FILENO, .timeout_ms = a.timeout_ms,
                                    .tries = 1 },
                        .report = cli_report,
                        .userdata = &c,
                }, v, n);
        if (c.tpm) {
                const struct tpm2_stats *s = tpm2_get_stats(c.tpm);
                log_debug("tpm2: %u primary key(s) created, %u persistent parent(s) used, %u salted session(s), "
                          "%u signature(s) verified, %u ticket(s) reused, %u unsealed",
                          s->primaries_created, s->srk_used, s->salted_sessions, s->signatures_verified,
                          s->tickets_reused, s->unsealed);
        }
        tpm2_close(c.tpm);
        if (r == -ENOMEM)
                log_error("out of memory");

        for (size_t i = 0; i < n; i++) {
                if (!v[i].opened) {
                        _cleanup_free_ char *line = reasons[i].why.n ? cli_reasons_line(&reasons[i]) : NULL;
                        /* A refused header stops the batch before any key is tried. */
                        log_error("%s: %s", v[i].path, line ? line :
                                  r == -LUKS_HEADER_REFUSED ? "not tried: a LUKS2 header of this run was refused" :
                                  "not unlocked");
                        ret = 1;
                }
                strv_clear(&reasons[i].why);
        }
        free(v);
        free(reasons);
        return ret;
}
