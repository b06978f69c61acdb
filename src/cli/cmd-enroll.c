/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "commands.h"
#include "encoding.h"
#include "enroll.h"
#include "log.h"
#include "qr.h"
#include "policy.h"
#include "safe-open.h"
#include "unlock-core.h"

/* usi-init enroll: a systemd-tpm2 token for one volume, sealed to the signed
 * PCR 11 policy and, for a volume bound behind others, to PCR 15 at the
 * value their keys give it. It parses and prints; src/tpm/enroll.c enrolls. */

#define MAX_SIGNATURES 16
#define MAX_BIND_AFTER 16

enum unlock_by { BY_NONE, BY_KEY_FILE, BY_PASSPHRASE, BY_TPM2 };

struct enroll_cli {
        const char *tcti;
        const char *public_key;
        const char *public_key_pcrs;
        const char *pcrs;
        const char *pcr15;
        const char *bind_after[MAX_BIND_AFTER];
        size_t n_bind_after;
        const char *pin_file;
        enum unlock_by unlock;
        const char *unlock_key_file;
        const char *signatures[MAX_SIGNATURES + 1];
        size_t n_signatures;
        const char *device;
        int remove_token;               /* --remove-token; -1: none */
        bool wipe_old;
        bool recovery_key;
};

static void enroll_help(void) {
        printf("usage: usi-init enroll [--tpm2-device=TCTI] --public-key=PEM [--public-key-pcrs=11]\n"
               "                       [--pcrs=LIST] [--pcr15=HEX | --bind-after=NAME:KEYFILE:DEVICE...]\n"
               "                       [--pin-file=FILE]\n"
               "                       (--unlock-key-file=FILE | --unlock-passphrase |\n"
               "                        --unlock-tpm2 [--signature=FILE...]) IMAGE_OR_DEVICE\n"
               "       usi-init enroll --recovery-key (--unlock-key-file=FILE | --unlock-passphrase |\n"
               "                       --unlock-tpm2 [--signature=FILE...]) IMAGE_OR_DEVICE\n"
               "       usi-init enroll --remove-token=N IMAGE_OR_DEVICE\n"
               "       usi-init enroll --wipe-old --public-key=PEM IMAGE_OR_DEVICE\n"
               "Seal a new random key to the TPM under the PCR policy signed by the public\n"
               "key (PCRs --public-key-pcrs, default 11) and the literal PCRs of --pcrs at\n"
               "the TPM's values now, add a keyslot it opens and a systemd-tpm2 token for it.\n"
               "PCR 15 is sealed to --pcr15 (sha256, hex) or to the value it has once the\n"
               "keys of the --bind-after volumes (in boot order, each opened as NAME with\n"
               "the key in KEYFILE) were measured; either adds PCR 15 to --pcrs. The volume\n"
               "is opened with a key file, a passphrase on standard input, or its own TPM\n"
               "token; through the token, the new one keeps that token's literal PCRs (its\n"
               "PCR 15 binding) unless --pcrs, --pcr15 or --bind-after say otherwise: a new\n"
               "signing key (--tpm2-public-key is --public-key) for the same volume set.\n"
               "--remove-token removes token N and its keyslot; --wipe-old every\n"
               "systemd-tpm2 token not signed by --public-key, once a UKI signed by it has\n"
               "booted. Neither removes the last keyslot. --recovery-key adds a keyslot for a\n"
               "new recovery key in systemd's format and prints it once (as a QR code too on a\n"
               "terminal). Exit 0 done, 1 failed, 2 usage.\n");
}

static int parse_args(int argc, char **argv, struct enroll_cli *a) {
        static const struct option opts[] = {
                { "tpm2-device",       required_argument, NULL, 't' },
                { "public-key",        required_argument, NULL, 'k' },
                { "tpm2-public-key",   required_argument, NULL, 'k' },
                { "remove-token",      required_argument, NULL, 'R' },
                { "wipe-old",          no_argument,       NULL, 'W' },
                { "recovery-key",      no_argument,       NULL, 'Y' },
                { "public-key-pcrs",   required_argument, NULL, 'K' },
                { "pcrs",              required_argument, NULL, 'p' },
                { "pcr15",             required_argument, NULL, '5' },
                { "bind-after",        required_argument, NULL, 'b' },
                { "pin-file",          required_argument, NULL, 'P' },
                { "unlock-key-file",   required_argument, NULL, 'f' },
                { "unlock-passphrase", no_argument,       NULL, 'w' },
                { "unlock-tpm2",       no_argument,       NULL, 'T' },
                { "signature",         required_argument, NULL, 's' },
                { "help",              no_argument,       NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                enum unlock_by by = BY_NONE;
                switch (c) {
                case 't': a->tcti = optarg; break;
                case 'k': a->public_key = optarg; break;
                case 'K': a->public_key_pcrs = optarg; break;
                case 'p': a->pcrs = optarg; break;
                case '5': a->pcr15 = optarg; break;
                case 'P': a->pin_file = optarg; break;
                case 'b':
                        if (a->n_bind_after == MAX_BIND_AFTER)
                                return log_error("enroll: at most %d --bind-after volumes", MAX_BIND_AFTER), -EINVAL;
                        a->bind_after[a->n_bind_after++] = optarg;
                        break;
                case 's':
                        if (a->n_signatures == MAX_SIGNATURES)
                                return log_error("enroll: at most %d --signature files", MAX_SIGNATURES), -EINVAL;
                        a->signatures[a->n_signatures++] = optarg;
                        break;
                case 'f': by = BY_KEY_FILE; a->unlock_key_file = optarg; break;
                case 'w': by = BY_PASSPHRASE; break;
                case 'T': by = BY_TPM2; break;
                case 'R': {
                        unsigned u;
                        if (safe_atou(optarg, &u) < 0 || u > 31)
                                return log_error("enroll: --remove-token wants a token number 0..31, not '%s'",
                                                 optarg), -EINVAL;
                        a->remove_token = (int) u;
                        break;
                }
                case 'W': a->wipe_old = true; break;
                case 'Y': a->recovery_key = true; break;
                case 'h':
                        enroll_help();
                        return 0;
                default:
                        return -EINVAL;
                }
                if (by != BY_NONE && a->unlock != BY_NONE && a->unlock != by)
                        return log_error("enroll: give one of --unlock-key-file, --unlock-passphrase and "
                                         "--unlock-tpm2"), -EINVAL;
                if (by != BY_NONE)
                        a->unlock = by;
        }
        if (argc - optind != 1)
                return log_error("enroll: give exactly one image or device"), -EINVAL;
        a->device = argv[optind];
        if (a->remove_token >= 0 || a->wipe_old) {
                if (a->remove_token >= 0 && a->wipe_old)
                        return log_error("enroll: give --remove-token or --wipe-old, not both"), -EINVAL;
                if (a->wipe_old && !a->public_key)
                        return log_error("enroll: --wipe-old needs --public-key, the key whose tokens stay"),
                               -EINVAL;
                if (a->unlock != BY_NONE || a->pcrs || a->pcr15 || a->n_bind_after || a->pin_file ||
                    a->n_signatures || a->public_key_pcrs || (a->remove_token >= 0 && a->public_key))
                        return log_error("enroll: --remove-token and --wipe-old take no enrolment options"),
                               -EINVAL;
                return 1;
        }
        if (a->unlock == BY_NONE)
                return log_error("enroll: give one of --unlock-key-file, --unlock-passphrase and --unlock-tpm2"),
                       -EINVAL;
        if (a->recovery_key && (a->public_key || a->public_key_pcrs || a->pcrs || a->pcr15 || a->n_bind_after ||
                                a->pin_file))
                return log_error("enroll: --recovery-key takes only the way to open the volume"), -EINVAL;
        if (a->n_signatures && a->unlock != BY_TPM2)
                return log_error("enroll: --signature goes with --unlock-tpm2"), -EINVAL;
        if (a->pcr15 && a->n_bind_after)
                return log_error("enroll: give --pcr15 or --bind-after, not both"), -EINVAL;
        return 1;
}

/* The PCR lists and --pcr15 into the arguments; 0 or -EINVAL (logged). */
static int parse_pcrs(const struct enroll_cli *a, struct enroll_args *e) {
        size_t n;

        e->pubkey_pcr_mask = UINT32_C(1) << 11;
        if (a->public_key_pcrs && pcr_mask_from_string(a->public_key_pcrs, &e->pubkey_pcr_mask) < 0)
                return log_error("enroll: --public-key-pcrs wants PCRs 0..23 as in 7+11, not '%s'",
                                 a->public_key_pcrs), -EINVAL;
        if (a->pcrs && pcr_mask_from_string(a->pcrs, &e->pcr_mask) < 0)
                return log_error("enroll: --pcrs wants PCRs 0..23 as in 7+15, not '%s'", a->pcrs), -EINVAL;
        if (a->pcr15) {
                if (hex_parse(a->pcr15, e->pcr15, sizeof(e->pcr15), &n) < 0 || n != sizeof(e->pcr15))
                        return log_error("enroll: --pcr15 wants a sha256 value (64 hex digits), not '%s'",
                                         a->pcr15), -EINVAL;
                e->has_pcr15 = true;
        }
        if (e->has_pcr15 || a->n_bind_after)
                e->pcr_mask |= UINT32_C(1) << PCR15_PCR;
        /* Through a token and told nothing of PCRs: that token's binding. */
        e->pcrs_from_token = a->unlock == BY_TPM2 && !a->pcrs && !e->has_pcr15 && !a->n_bind_after;
        if (e->pubkey_pcr_mask & e->pcr_mask)
                return log_error("enroll: a PCR is either signed (--public-key-pcrs) or literal (--pcrs), "
                                 "not both"), -EINVAL;
        if (e->pubkey_pcr_mask && !a->public_key)
                return log_error("enroll: --public-key is missing (the key that signs PCR %s policies)",
                                 pcr_mask_to_string(e->pubkey_pcr_mask, (char[64]) {}, 64)), -EINVAL;
        return 0;
}

/* PCR 15 after the --bind-after volumes' keys, in the order given. One
 * line naming the volume on failure. */
static int chain_value(const struct enroll_cli *a, struct enroll_args *e) {
        struct pcr15_digests d[MAX_BIND_AFTER];
        uint8_t value[64];
        size_t size;
        int r;

        for (size_t i = 0; i < a->n_bind_after; i++) {
                _cleanup_free_ char *spec = strdup(a->bind_after[i]), *why = NULL;
                _cleanup_secret_ struct secret *key = NULL;
                char *name = spec, *keyfile, *device;

                if (!spec)
                        return log_error("out of memory"), -ENOMEM;
                keyfile = strchr(name, ':');
                device = keyfile ? strchr(keyfile + 1, ':') : NULL;
                if (!device || keyfile == name || device == keyfile + 1 || !device[1])
                        return log_error("enroll: --bind-after wants NAME:KEYFILE:DEVICE, not '%s'",
                                         a->bind_after[i]), -EINVAL;
                *keyfile++ = '\0';
                *device++ = '\0';
                r = secret_read_file(keyfile, KEYFILE_MAX, false, &key, &why);
                if (r >= 0)
                        r = enroll_volume_digests(device, name, key, &d[i], &why);
                if (r < 0)
                        return log_error("%s: --bind-after %s: %s", a->device, device, why_or(why)), r;
        }
        r = pcr15_chain_value(ENROLL_BANK, d, a->n_bind_after, value, &size);
        if (r < 0)
                return log_error("%s: cannot compute the PCR 15 chain: %s", a->device, strerror(-r)), r;
        memcpy(e->pcr15, value, sizeof(e->pcr15));
        e->has_pcr15 = true;
        return 0;
}

/* The inputs that are files or typed: each failure one line naming it. */
static int read_inputs(const struct enroll_cli *a, struct enroll_args *e, char **pem, struct secret **pin,
                       struct secret **unlock) {
        _cleanup_free_ char *why = NULL;
        char prompt[256];
        int r;

        if (e->pubkey_pcr_mask) {
                r = safe_read_path(a->public_key, SAFE_PUBKEY_MAX, pem, &e->pubkey_pem_size, &why);
                if (r < 0)
                        return log_error("%s: --public-key: %s", a->device, why_or(why)), r;
                e->pubkey_pem = *pem;
        }
        if (a->pin_file) {
                r = secret_read_pin(a->pin_file, pin, &why);
                if (r < 0)
                        return log_error("%s: --pin-file: %s", a->device, why_or(why)), r;
                e->pin = *pin;
        }
        switch (a->unlock) {
        case BY_KEY_FILE:
                r = secret_read_file(a->unlock_key_file, KEYFILE_MAX, false, unlock, &why);
                if (r < 0)
                        return log_error("%s: --unlock-key-file: %s", a->device, why_or(why)), r;
                break;
        case BY_PASSPHRASE:
                snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", a->device);
                r = unlock_prompt(STDIN_FILENO, STDERR_FILENO, prompt, UNLOCK_PROMPT_TIMEOUT_MS, unlock);
                if (r < 0)
                        return log_error("%s: --unlock-passphrase: %s", a->device,
                                         r == -ETIME ? "no passphrase typed in time" :
                                         r == -ENODATA ? "empty passphrase" : strerror(-r)), r;
                break;
        default:
                break;
        }
        e->unlock_key = *unlock;
        return 0;
}

/* --recovery-key: the key is shown here once, on standard output only. */
static int recovery_key(const struct enroll_cli *a) {
        struct enroll_args e = { .tcti = a->tcti, .signatures = a->signatures };
        _cleanup_free_ char *pem = NULL, *why = NULL;
        _cleanup_secret_ struct secret *pin = NULL, *unlock = NULL, *key = NULL;
        struct enroll_result res;
        int r;

        if (read_inputs(a, &e, &pem, &pin, &unlock) < 0)
                return 1;
        r = enroll_recovery(a->device, &e, &key, &res, &why);
        if (r < 0) {
                log_error("%s: %s", a->device, why_or(why));
                return 1;
        }
        printf("%s: enrolled a recovery key, keyslot %d (token %d). Keep it safe; it is shown only now:\n",
               a->device, res.keyslot, res.token);
        fwrite(key->data, 1, key->size, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        qr_show(STDOUT_FILENO, key);
        return 0;
}

/* --remove-token / --wipe-old: one line saying what went. */
static int remove_tokens(const struct enroll_cli *a) {
        _cleanup_free_ char *pem = NULL, *why = NULL;
        size_t size = 0, n = 0;
        int r;

        if (a->wipe_old && (r = safe_read_path(a->public_key, SAFE_PUBKEY_MAX, &pem, &size, &why)) < 0) {
                log_error("%s: --public-key: %s", a->device, why_or(why));
                return 1;
        }
        r = enroll_remove(a->device, a->remove_token, pem, size, &n, &why);
        if (r < 0) {
                log_error("%s: %s", a->device, why_or(why));
                return 1;
        }
        if (a->wipe_old)
                printf("%s: removed %zu token(s) not signed by %s\n", a->device, n, a->public_key);
        else
                printf("%s: removed token %d and its keyslot\n", a->device, a->remove_token);
        return 0;
}

int cmd_enroll(int argc, char **argv) {
        struct enroll_cli a = { .remove_token = -1 };
        struct enroll_args e = {};
        struct enroll_result res;
        _cleanup_free_ char *pem = NULL, *why = NULL;
        _cleanup_secret_ struct secret *pin = NULL, *unlock = NULL;
        char hex[65];
        int r;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : 0;
        if (a.remove_token >= 0 || a.wipe_old)
                return remove_tokens(&a);
        if (a.recovery_key)
                return recovery_key(&a);
        if (parse_pcrs(&a, &e) < 0)
                return EXIT_USAGE;
        e.tcti = a.tcti;
        e.signatures = a.signatures;
        if (read_inputs(&a, &e, &pem, &pin, &unlock) < 0)
                return 1;
        if (a.n_bind_after && chain_value(&a, &e) < 0)
                return 1;
        r = enroll_volume(a.device, &e, &res, &why);
        if (r < 0) {
                log_error("%s: %s", a.device, why_or(why));
                return 1;
        }
        printf("%s: enrolled token %d (keyslot %d)", a.device, res.token, res.keyslot);
        if (e.has_pcr15)
                printf(", bound to PCR 15 = %s", hex_string(e.pcr15, sizeof(e.pcr15), hex));
        else if (e.pcrs_from_token && res.pcr_mask)
                printf(", literal PCRs %s as token %d had them",
                       pcr_mask_to_string(res.pcr_mask, (char[64]) {}, 64), res.from_token);
        printf("\n");
        return 0;
}
