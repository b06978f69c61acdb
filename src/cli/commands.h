/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Each subcommand lives in its own src/cmd-*.c. Exit codes: 0 success,
 * 1 the operation failed, 2 bad usage or bad configuration. */
#define EXIT_USAGE 2

int cmd_plan(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_sysext(int argc, char **argv);
int cmd_enroll(int argc, char **argv);

/* As the kernel's /init (main() when getpid() == 1), with the arguments the
 * kernel gave it (passed on to the final init): runs the boot and never
 * returns; the boot ends in the exec of the final init, or in the failure
 * policy (halt by default). src/cli/cmd-pid1.c. */
_Noreturn void pid1_main(int argc, char **argv);
