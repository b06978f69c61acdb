/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* usi-init as the kernel's /init. The kernel starts PID 1 with nothing but
 * the initramfs: no /proc, no /dev beyond what the archive holds, stdio on
 * whatever console it found. pid1_main() gives the boot pipeline the process
 * environment it expects, runs it, and never returns: the pipeline ends in
 * the exec of the final init, or in the failure policy (halt by default). */

/* The process environment PID 1 needs before the boot runs: the API file
 * systems, stdio and the log on the console, signals, and the copies of
 * /.extra. `argv` is what the kernel gave /init: kept, with whether the
 * kernel set TSS2_LOG, for pid1_exec() (the only process-wide state besides
 * the log's). pid1_main() (src/cli) calls it first. */
void pid1_setup(char **argv);

/* Halt, for a PID 1 that has nothing left to do: never returns (PID 1 must
 * not exit: the kernel would panic with the reason lost). */
_Noreturn void pid1_halt(void);

/* Replace PID 1 by the final init: reap what is left of our children, put
 * every signal back to its default, close every file descriptor but stdio,
 * and execve(path) with argv and the kernel's environment. The process stays
 * PID 1; the root stays where it is (no pivot_root, no switch_root). argv
 * NULL: the arguments the kernel gave /init (argv[0] becomes path). Returns
 * only on failure, with a negative errno. Safe to call when not PID 1. */
int pid1_exec(const char *path, char *const argv[]);

/* Make the root pivot_root-able without copying it. The initramfs root is
 * the kernel's rootfs, which pivot_root(2) refuses (EINVAL), so container
 * runtimes in the final OS fail. Instead of copying the OS into a tmpfs
 * (twice the memory while both copies exist), bind the root onto `dir` (a
 * directory on it, created if missing; Kairos uses /sysroot), move every
 * mount on top of it there, move that onto / and chroot into it: the same
 * inodes, now a mount of their own. All mounts become private first (MS_MOVE
 * refuses shared ones). For PID 1 before the exec of the final init; on
 * failure (negative errno, logged) the mounts may be half moved: fail the
 * boot. */
int pid1_relocate_root(const char *dir);
