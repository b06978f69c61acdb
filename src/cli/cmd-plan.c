/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "commands.h"
#include "efivars.h"
#include "load.h"
#include "log.h"

static void plan_help(void) {
        printf("usage: usi-init plan [--config FILE]... [--root DIR] [--cmdline STRING | --cmdline-file FILE] [--json]\n"
               "                     [--efivars DIR] [--oem]\n"
               "       usi-init plan --print-defaults\n"
               "Print the boot plan: what a boot with this configuration and kernel\n"
               "command line would find, unlock, mount, overlay, bind and exec, and\n"
               "whether it is a UKI boot (USI mode) and why: rd.immucore.uki, files in\n"
               "DIR/.extra, systemd-stub's EFI variables (the firmware's without --root,\n"
               "else those in --efivars DIR). Nothing on the system is touched.\n"
               "--oem also reads DIR/oem as the boot does once /oem is mounted (layout\n"
               "only: each other key found there is named as ignored).\n"
               "Exit 2 on a bad configuration.\n");
}

int cmd_plan(int argc, char **argv) {
        enum { ARG_CMDLINE_FILE = 0x100, ARG_PRINT_DEFAULTS, ARG_EFIVARS, ARG_OEM };
        static const struct option opts[] = {
                { "config",         required_argument, NULL, 'c' },
                { "root",           required_argument, NULL, 'r' },
                { "cmdline",        required_argument, NULL, 'k' },
                { "cmdline-file",   required_argument, NULL, ARG_CMDLINE_FILE },
                { "json",           no_argument,       NULL, 'j' },
                { "print-defaults", no_argument,       NULL, ARG_PRINT_DEFAULTS },
                { "efivars",        required_argument, NULL, ARG_EFIVARS },
                { "oem",            no_argument,       NULL, ARG_OEM },
                { "help",           no_argument,       NULL, 'h' },
                {}
        };
        struct plan_inputs in = PLAN_INPUTS_INIT;
        _cleanup_free_ char *cmdline_buf = NULL;
        _cleanup_free_ char *why = NULL;
        const char *efivars = NULL;
        bool json = false, oem = false;
        struct cmdline cl;
        struct plan p;
        strv errors = {};
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "c:r:k:jh", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (strv_push(&in.config_files, optarg) < 0)
                                return log_error("out of memory"), 1;
                        break;
                case 'r':
                        in.root = optarg;
                        break;
                case 'k':
                        in.cmdline = optarg;
                        break;
                case ARG_CMDLINE_FILE:
                        r = cmdline_read_file(optarg, &cmdline_buf, &why);
                        if (r < 0) {
                                log_error_errno(r, "cannot read the kernel command line: %s", why);
                                strv_clear(&in.config_files);
                                return EXIT_USAGE;
                        }
                        in.cmdline = cmdline_buf;
                        break;
                case 'j':
                        json = true;
                        break;
                case ARG_EFIVARS:
                        efivars = optarg;
                        break;
                case ARG_OEM:
                        oem = true;
                        break;
                case ARG_PRINT_DEFAULTS:
                        fputs(config_defaults_yaml, stdout);
                        strv_clear(&in.config_files);
                        return 0;
                case 'h':
                        plan_help();
                        strv_clear(&in.config_files);
                        return 0;
                default:
                        strv_clear(&in.config_files);
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                log_error("plan: unexpected argument '%s'", argv[optind]);
                strv_clear(&in.config_files);
                return EXIT_USAGE;
        }

        /* The same inputs, by the same rules, as `boot` reads. */
        r = plan_inputs_gather(&in, efivars, EFIVARS_DIR, &why);
        if (r < 0) {
                log_error_errno(r, "plan: %s", why);
                plan_inputs_done(&in);
                strv_clear(&in.config_files);
                return r == -ENOMEM ? 1 : EXIT_USAGE;
        }

        cmdline_init(&cl);
        r = plan_load(&in, oem, &cl, &p, &errors);
        if (r < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        fprintf(stderr, "%s\n", errors.v[i]);
                if (errors.n == 0)
                        log_error_errno(r, "cannot build the plan: %s", strerror(-r));
                ret = r == -EINVAL ? EXIT_USAGE : 1;
        } else {
                for (size_t i = 0; i < p.notes.n; i++)
                        log_warn("%s", p.notes.v[i]);
                r = json ? plan_print_json(&p, stdout) : plan_print_text(&p, stdout);
                ret = r < 0 ? 1 : 0;
                plan_done(&p);
        }
        cmdline_done(&cl);
        strv_clear(&errors);
        plan_inputs_done(&in);
        strv_clear(&in.config_files);
        return ret;
}
