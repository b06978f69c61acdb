/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "runner.h"
#include "cmdline.h"
#include "commands.h"
#include "log.h"

static void boot_help(void) {
        printf("usage: usi-init boot [--root DIR] [--no-handoff] [--config FILE]... [--cmdline STRING | --cmdline-file FILE]\n"
               "                     [--state-file FILE] [--signature FILE]... [--efivars DIR] [--measure-volume-keys]\n"
               "Run the boot pipeline: find, unlock and mount the volumes, build the\n"
               "ephemeral overlays and the persistent bind mounts, then exec the init.\n"
               "With --root every path is under DIR (for tests and debugging; needs\n"
               "--no-handoff). Writes DIR/run/usi-init/state.json.\n"
               "--signature FILE: a PCR signature file of the running system, tried before\n"
               "the plan's (which are under DIR); for a systemd initrd's /.extra.\n"
               "--efivars DIR: read the EFI variables (SecureBoot, LoaderEntrySelected, PK, KEK,\n"
               "db, ...) from DIR, one NAME-GUID file each as efivarfs shows them, instead of\n"
               "the firmware's (none are read with --root otherwise); for tests and replays.\n"
               "--measure-volume-keys: extend PCR 15 with the volume keys (tpm.measure_volume_keys)\n"
               "also with --no-handoff, into this machine's TPM: for a systemd initrd's service.\n"
               "Exit 0 on success, 1 when a stage failed, 2 on a bad configuration.\n");
}

int cmd_boot(int argc, char **argv) {
        enum { ARG_NO_HANDOFF = 0x100, ARG_CMDLINE_FILE, ARG_STATE_FILE, ARG_SIGNATURE, ARG_EFIVARS,
               ARG_MEASURE_VOLUME_KEYS };
        static const struct option opts[] = {
                { "root",         required_argument, NULL, 'r' },
                { "config",       required_argument, NULL, 'c' },
                { "cmdline",      required_argument, NULL, 'k' },
                { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
                { "state-file",   required_argument, NULL, ARG_STATE_FILE },
                { "no-handoff",   no_argument,       NULL, ARG_NO_HANDOFF },
                { "signature",    required_argument, NULL, ARG_SIGNATURE },
                { "efivars",      required_argument, NULL, ARG_EFIVARS },
                { "measure-volume-keys", no_argument, NULL, ARG_MEASURE_VOLUME_KEYS },
                { "help",         no_argument,       NULL, 'h' },
                {}
        };
        struct boot_options o = { .handoff = true, .pid1 = getpid() == 1 };
        _cleanup_free_ char *cmdline_buf = NULL;
        _cleanup_free_ char *why = NULL;
        int c, r, ret = EXIT_USAGE;

        while ((c = getopt_long(argc, argv, "r:c:k:h", opts, NULL)) >= 0)
                switch (c) {
                case 'r':
                        o.root = optarg;
                        break;
                case 'c':
                        if (strv_push(&o.config_files, optarg) < 0) {
                                log_error("out of memory");
                                goto out;
                        }
                        break;
                case 'k':
                        o.cmdline = optarg;
                        break;
                case ARG_CMDLINE_FILE:
                        r = cmdline_read_file(optarg, &cmdline_buf, &why);
                        if (r < 0) {
                                log_error_errno(r, "cannot read the kernel command line: %s", why);
                                goto out;
                        }
                        o.cmdline = cmdline_buf;
                        break;
                case ARG_STATE_FILE:
                        o.state_file = optarg;
                        break;
                case ARG_SIGNATURE:
                        if (optarg[0] != '/') {
                                log_error("boot: --signature %s: expected an absolute path", optarg);
                                goto out;
                        }
                        if (strv_push(&o.signatures, optarg) < 0) {
                                log_error("out of memory");
                                goto out;
                        }
                        break;
                case ARG_EFIVARS:
                        o.efivars = optarg;
                        break;
                case ARG_NO_HANDOFF:
                        o.handoff = false;
                        break;
                case ARG_MEASURE_VOLUME_KEYS:
                        o.measure_volume_keys = true;
                        break;
                case 'h':
                        boot_help();
                        ret = 0;
                        goto out;
                default:
                        goto out;
                }
        if (optind < argc) {
                log_error("boot: unexpected argument '%s'", argv[optind]);
                goto out;
        }
        if (o.handoff && !o.pid1) {
                log_error("boot: handing off to an init needs PID 1; use --no-handoff");
                goto out;
        }

        r = boot_run(&o);
        ret = r == 0 ? 0 : r == -EINVAL ? EXIT_USAGE : 1;
out:
        strv_clear(&o.config_files);
        strv_clear(&o.signatures);
        return ret;
}
