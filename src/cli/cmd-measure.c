/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "commands.h"
#include "log.h"
#include "measure.h"

static void measure_help(void) {
        printf("usage: usi-init measure [--tpm2-device=TCTI] [--check-signed [--signature=FILE]...] WORD...\n"
               "Extend PCR 11 with each boot phase WORD (enter-initrd, leave-initrd, ...)\n"
               "in every active PCR bank, as systemd-pcrphase does. --check-signed then\n"
               "says whether the resulting PCR 11 is still signed (volume keys unsealable).\n");
}

int cmd_measure(int argc, char **argv) {
        static const struct option opts[] = {
                { "tpm2-device", required_argument, NULL, 't' },
                { "check-signed", no_argument,      NULL, 'c' },
                { "signature",   required_argument, NULL, 's' },
                { "help",        no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *why = NULL;
        const char *tcti = NULL, *sigs[17] = {}, *path = NULL;
        size_t n_sigs = 0;
        bool check = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 't':
                        tcti = optarg;
                        break;
                case 'c':
                        check = true;
                        break;
                case 's':
                        if (n_sigs == ELEMENTSOF(sigs) - 1)
                                return log_error("measure: at most %zu --signature files", n_sigs), EXIT_USAGE;
                        sigs[n_sigs++] = optarg;
                        break;
                case 'h':
                        measure_help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind >= argc) {
                log_error("measure: no phase word given");
                return EXIT_USAGE;
        }
        r = tpm2_open(tcti, &tpm, &why);
        if (r < 0) {
                log_error("measure: %s", strempty(why));
                return 1;
        }
        for (int i = optind; i < argc; i++) {
                if (!measure_phase_known(argv[i]))
                        log_warn("measure: '%s' is not a phase word systemd knows", argv[i]);
                r = measure_phase(tpm, argv[i], &why);
                if (r < 0) {
                        log_error("%s", strempty(why));
                        return 1;
                }
                log_debug("measured '%s' into PCR %d", argv[i], MEASURE_PCR_PHASE);
        }
        if (!check)
                return 0;
        r = measure_signed_now(tpm, sigs, &path, &why);
        if (r < 0) {
                log_error("measure: %s", strempty(why));
                return 1;
        }
        if (r > 0)
                printf("PCR %d (sha256) is signed in %s: volume keys stay unsealable after this phase; %s\n",
                       MEASURE_PCR_PHASE, path, MEASURE_HANDOFF_REMEDY);
        else
                printf("PCR %d (sha256) is not signed in %s: volume keys are sealed from here on\n",
                       MEASURE_PCR_PHASE, path);
        return 0;
}
