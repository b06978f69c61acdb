/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "commands.h"
#include "log.h"

/* The subcommands. As PID 1 the binary boots (added with the boot pipeline);
 * run by hand it explains and debugs a node. */
static const struct command {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *summary;
} commands[] = {
        { "plan", cmd_plan, "print the boot plan of a configuration and kernel command line" },
        { "boot", cmd_boot, "run the boot pipeline (as PID 1, or against --root DIR with --no-handoff)" },
        { "status", cmd_status, "show what the last boot did (state.json)" },
        { "unlock", cmd_unlock, "unseal LUKS2 volume keys with the TPM2 and check or activate them" },
        { "enroll", cmd_enroll, "seal a new LUKS2 key to the TPM (signed PCR 11, literal PCRs, PCR 15 chain) as a systemd-tpm2 token" },
        { "measure", cmd_measure, "extend boot phase words into PCR 11, like systemd-pcrphase" },
        { "sysext", cmd_sysext, "check system extension images (signature, layout, hash tree) and stage them" },
};

static void help(void) {
        printf("usage: usi-init [--debug] COMMAND [OPTIONS]\n\n"
               "Boots encrypted, immutable Linux nodes from a Unified System Image.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-10s %s\n", commands[i].name, commands[i].summary);
        printf("\nSee usi-init(8) and usi-init.yaml(5).\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "debug",   no_argument, NULL, 'd' },
                { "help",    no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

        /* Started by the kernel as /init: boot. Its arguments are the
         * kernel's for the final init, not options of ours. */
        if (getpid() == 1)
                pid1_main(argc, argv);

        log_open(LOG_TARGET_STDERR);
        /* '+': stop at the first non-option, which is the subcommand. */
        while ((c = getopt_long(argc, argv, "+dhV", opts, NULL)) >= 0)
                switch (c) {
                case 'd':
                        log_set_level(LOG_LEVEL_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("usi-init %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name)) {
                        char **sub = argv + optind;
                        int n = argc - optind;
                        optind = 1;  /* each command parses its own options */
                        return commands[i].fn(n, sub);
                }
        log_error("unknown command '%s'; see usi-init --help", argv[optind]);
        return EXIT_USAGE;
}
