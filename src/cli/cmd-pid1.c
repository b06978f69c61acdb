/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runner.h"
#include "cmdline.h"
#include "commands.h"
#include "log.h"
#include "pid1.h"

/* usi-init as the kernel's /init: PID 1 until the hand-off. */
_Noreturn void pid1_main(int argc, char **argv) {
        _cleanup_free_ char *cmdline = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        (void) argc;
        pid1_setup(argv);

        r = cmdline_read_file("/proc/cmdline", &cmdline, &why);
        if (r < 0)
                log_warn("pid1: %s; booting with the defaults", why);

        struct boot_options o = {
                .root = NULL,
                .handoff = true,
                .pid1 = true,
                .cmdline = cmdline ? cmdline : "",
        };
        r = boot_run(&o);
        /* boot_run() returns only when neither the hand-off nor the failure
         * policy ended the boot. Fail closed. */
        log_error("pid1: the boot ended without handing off (%s); halting",
                  r < 0 ? strerror(-r) : "no init was executed");
        pid1_halt();
}
