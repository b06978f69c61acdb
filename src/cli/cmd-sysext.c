/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <getopt.h>

#include "commands.h"
#include "log.h"
#include "sysext-stage.h"

static void sysext_help(void) {
        printf("usage: usi-init sysext [--check] [--cert FILE]... [--efi-db FILE]... [--efivars DIR]\n"
               "                       [--root DIR] [--stage DIR [--confext-dir DIR] [--consume]]\n"
               "                       [--max-size BYTES] IMAGE...\n"
               "Check system extension images as the boot does: a GPT with only the data, verity\n"
               "and verity-sig partitions, UUIDs from the signed root hash, a PKCS#7 signature by a\n"
               "trust-anchor certificate, no file system at offset 0, and the whole hash tree.\n"
               "Prints 'IMAGE: accepted as NAME' or 'IMAGE: rejected: REASON' for each image and\n"
               "exits 0 only when every image was accepted. Needs neither root nor device-mapper.\n\n"
               "  --cert FILE     trust the PEM certificate(s) in FILE\n"
               "  --efi-db FILE   trust the X.509 entries of an EFI signature-list variable (PK, KEK, db)\n"
               "  --efivars DIR   trust PK, KEK and db of an efivarfs directory\n"
               "  --root DIR      trust DIR/usr/lib/verity.d/*.crt and DIR/etc/verity.d/*.crt\n"
               "  --stage DIR     hand accepted images over into DIR as NAME.raw, .verity, .roothash, .roothash.p7s\n"
               "  --confext-dir DIR  stage *.confext.raw images there instead (default: the --stage DIR)\n"
               "  --consume       free each IMAGE while it is staged (the boot's /.extra/sysext); deletes it\n"
               "  --max-size BYTES  stage at most BYTES in all (default 1 GiB, the boot's cap)\n");
}

int cmd_sysext(int argc, char **argv) {
        static const struct option opts[] = {
                { "check",   no_argument,       NULL, 'c' },
                { "cert",    required_argument, NULL, 'C' },
                { "efi-db",  required_argument, NULL, 'E' },
                { "efivars", required_argument, NULL, 'V' },
                { "root",    required_argument, NULL, 'R' },
                { "stage",   required_argument, NULL, 'S' },
                { "consume", no_argument,       NULL, 'X' },
                { "confext-dir", required_argument, NULL, 'F' },
                { "max-size", required_argument, NULL, 'M' },
                { "help",    no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(sysext_anchor_done) struct sysext_anchor anchor = {};
        _cleanup_close_ int dir_fd = -1, confext_fd = -1;
        struct sysext_result *res = NULL;
        _cleanup_free_ struct sysext_source *src = NULL;
        const char *stage = NULL, *confext_dir = NULL, *tmp;
        unsigned flags = 0;
        uint64_t room = SYSEXT_STAGE_ROOM_DEFAULT;
        int c, r = 0, failed = 0;

        if (sysext_anchor_init(&anchor) < 0)
                return log_error("sysext: out of memory"), 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                _cleanup_free_ char *why = NULL;
                _cleanup_close_ int fd = -1;

                switch (c) {
                case 'c':
                        break;
                case 'C':
                        r = sysext_anchor_add_cert_file(&anchor, optarg, &why);
                        break;
                case 'E':
                        r = sysext_anchor_add_efi_file(&anchor, optarg, &why);
                        break;
                case 'V':
                case 'R':
                        fd = open(optarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0) {
                                log_error("sysext: %s: %m", optarg);
                                return EXIT_USAGE;
                        }
                        r = c == 'V' ? sysext_anchor_add_efivars(&anchor, fd) : sysext_anchor_add_cert_dirs(&anchor, fd);
                        break;
                case 'S':
                        stage = optarg;
                        break;
                case 'X':
                        flags |= SYSEXT_STAGE_CONSUME;
                        break;
                case 'F':
                        confext_dir = optarg;
                        break;
                case 'M': {
                        char *end = NULL;
                        errno = 0;
                        room = strtoull(optarg, &end, 10);
                        if (!isdigit((unsigned char) optarg[0]) || *end || errno) {
                                log_error("sysext: --max-size: '%s' is not a number of bytes", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                }
                case 'h':
                        sysext_help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
                if ((c == 'C' || c == 'E' || c == 'V' || c == 'R') && r < 0) {
                        /* A bad anchor source is the caller's mistake: say so, stop. */
                        log_error("sysext: %s", why ? why : strerror(-r));
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("sysext: no image given");
                return EXIT_USAGE;
        }
        if (((flags & SYSEXT_STAGE_CONSUME) || confext_dir) && !stage) {
                log_error("sysext: --consume and --confext-dir need --stage");
                return EXIT_USAGE;
        }
        if (!stage) {
                /* The check copies the data and verity partitions into
                 * unnamed temporary files, as the boot stages them. */
                flags |= SYSEXT_STAGE_CHECK_ONLY;
                tmp = getenv("TMPDIR");
                stage = tmp && *tmp ? tmp : "/var/tmp";
        }
        dir_fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                log_error("sysext: %s: %m", stage);
                return EXIT_USAGE;
        }
        if (confext_dir) {
                confext_fd = open(confext_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (confext_fd < 0) {
                        log_error("sysext: %s: %m", confext_dir);
                        return EXIT_USAGE;
                }
        }
        if (sysext_anchor_count(&anchor) == 0)
                log_warn("sysext: no trust-anchor certificate (--cert, --efi-db, --efivars or --root): every image is rejected");

        src = calloc((size_t) (argc - optind), sizeof(*src));
        if (!src)
                return log_error("sysext: out of memory"), 1;
        for (int i = optind; i < argc; i++)
                src[i - optind] = (struct sysext_source) { .dir_fd = AT_FDCWD, .file = argv[i], .path = argv[i] };
        /* The boot's own loop, so this command shows what a boot would do. */
        r = sysext_stage_all(src, (size_t) (argc - optind), &anchor, dir_fd,
                             confext_fd >= 0 ? confext_fd : dir_fd, flags | SYSEXT_STAGE_QUIET, &room, &res);
        if (r < 0) {
                log_error("sysext: out of memory");
                return 1;
        }
        for (int i = 0; i < argc - optind; i++) {
                if (res[i].name)
                        printf("%s: accepted as %s\n", res[i].path, res[i].name);
                else {
                        printf("%s: rejected: %s\n", res[i].path, res[i].reason);
                        failed++;
                }
        }
        sysext_results_free(res, (size_t) (argc - optind));
        return failed ? 1 : 0;
}
