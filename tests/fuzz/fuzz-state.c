/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: state.json as its one reader takes it (state_read(),
 * src/cli/state-read.c: a --state-file may name anything), then what
 * `usi-init status` prints of it (src/cli/cmd-status.c, to /dev/null) and
 * the pcr11_base `unlock --explain` takes from it. The input is the file,
 * written to a tmpfs directory (/dev/shm, else TMPDIR). The two command-layer
 * files are compiled into this target: they are not in libusi.a. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-tmpdir.h"
#include "state-read.c"
#include "cmd-status.c"
#include "status-svg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char file[128];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

        (void) argc, (void) argv;
        /* status prints to stdout; libFuzzer reports on stderr. */
        if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
                abort();
        close(null);
        fuzz_tmpdir("fuzz-state");
        snprintf(file, sizeof(file), "%s/state.json", fuzz_dir);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct json_object *s = NULL;
        char *why = NULL;
        uint8_t base[32];

        if (fuzz_tmpdir_write("state.json", data, size) < 0)
                return 0;
        if (state_read(file, &s, &why) >= 0) {
                print_status(s);
                (void) state_hex32(s, "pcr11_base", base);
                (void) streq_ptr(state_str(s, "outcome"), "failed");
                (void) json_object_to_json_string_ext(s, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
                /* The timeline of status --svg, drawn from the same record. */
                char *svg_why = NULL;
                (void) status_svg(s, "-", &svg_why);
                free(svg_why);
                json_object_put(s);
        } else if (!why)
                abort();
        fflush(stdout);
        free(why);
        return 0;
}
