/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <json-c/json.h>

#include "commands.h"
#include "log.h"
#include "state-read.h"
#include "state.h"
#include "status-svg.h"
#include "tpm2-da.h"
#include <unistd.h>

/* state.json for a person. The file is the interface; this only reads it. */

static void print_extensions(struct json_object *s) {
        struct json_object *x, *acc, *rej;

        if (!json_object_object_get_ex(s, "extensions", &x))
                return;
        acc = state_arr(x, "accepted");
        rej = state_arr(x, "rejected");
        printf("Extensions: %zu staged, %zu rejected in %lld ms (Kairos directory %s, %zu trusted certificates)\n",
               acc ? json_object_array_length(acc) : 0, rej ? json_object_array_length(rej) : 0, (long long) state_num(x, "ms"),
               state_str(x, "kairos_mode_dir") ? state_str(x, "kairos_mode_dir") : "none",
               state_arr(x, "anchor") ? json_object_array_length(state_arr(x, "anchor")) : 0);
        for (size_t i = 0; acc && i < json_object_array_length(acc); i++) {
                struct json_object *e = json_object_array_get_idx(acc, i);
                printf("  %-7s %-24s from %s (%s)\n", strempty(state_str(e, "kind")), strempty(state_str(e, "name")),
                       strempty(state_str(e, "path")), strempty(state_str(e, "source")));
        }
        for (size_t i = 0; rej && i < json_object_array_length(rej); i++) {
                struct json_object *e = json_object_array_get_idx(rej, i);
                printf("  rejected %s (%s): %s\n", strempty(state_str(e, "path")), strempty(state_str(e, "source")),
                       strempty(state_str(e, "reason")));
        }
}

/* The signed phase window after leave-initrd (src/tpm/window.c). */
static void print_handoff(struct json_object *s) {
        struct json_object *h;

        if (!json_object_object_get_ex(s, "handoff_window", &h))
                return;
        printf("Keys unsealable after hand-off: %s (%s)\n", state_flag(h, "keys_unsealable") ? "yes" : "no",
               strempty(state_str(h, "reason")));
}

/* One line per PCR 15 extend: what went to the TPM, in order. */
static void print_volume_key_measurements(struct json_object *s) {
        struct json_object *a = state_arr(s, "volume_key_measurements");

        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                struct json_object *m = json_object_array_get_idx(a, i);
                printf("PCR %lld %s: %s %s\n", (long long) state_num(m, "pcr"), strempty(state_str(m, "bank")),
                       strempty(state_str(m, "description")), strempty(state_str(m, "digest")));
        }
}

static void print_status(struct json_object *s) {
        struct json_object *a;

        printf("Boot: %s after %lld ms (root %s)\n", strempty(state_str(s, "outcome")), (long long) state_num(s, "elapsed_ms"),
               strempty(state_str(s, "root")));
        if (state_str(s, "failure"))
                printf("Failed in %s: %s\n", strempty(state_str(s, "failed_stage")), state_str(s, "failure"));
        if ((a = state_arr(s, "stages"))) {
                printf("Stages:");
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        struct json_object *e = json_object_array_get_idx(a, i);
                        printf(" %s %lld ms%s", strempty(state_str(e, "name")), (long long) state_num(e, "ms"),
                               streq_ptr(state_str(e, "result"), "ok") ? "" : " (failed)");
                }
                printf("\n");
        }
        printf("Config from /oem: %s\n", state_flag(s, "oem_config") ? "read" : "not read");
        if (state_str(s, "volumes_bound"))
                printf("Volumes bound: %s\n", state_str(s, "volumes_bound"));
        if ((a = state_arr(s, "volumes")))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        struct json_object *v = json_object_array_get_idx(a, i);
                        if (!state_flag(v, "found")) {
                                printf("Volume %s: not found\n", strempty(state_str(v, "name")));
                                continue;
                        }
                        printf("Volume %s: %s (%s%s%s) by %s after %lld ms%s%s%s\n", strempty(state_str(v, "name")),
                               strempty(state_str(v, "device")), strempty(state_str(v, "type")), state_str(v, "label") ? " label " : "",
                               strempty(state_str(v, "label")), strempty(state_str(v, "found_by")), (long long) state_num(v, "found_ms"),
                               state_flag(v, "opened") ? ", opened as " : "", state_flag(v, "opened") ? strempty(state_str(v, "mapper")) : "",
                               state_flag(v, "mounted") ? ", mounted" : ", not mounted");
                        if (state_str(v, "reseal"))
                                printf("Volume %s: reseal: %s\n", strempty(state_str(v, "name")), state_str(v, "reseal"));
                }
        if ((a = state_arr(s, "mounts"))) {
                size_t n = json_object_array_length(a), existed = 0;
                for (size_t i = 0; i < n; i++)
                        existed += state_flag(json_object_array_get_idx(a, i), "existed");
                printf("Mounts: %zu (%zu were already there)\n", n, existed);
                for (size_t i = 0; i < n; i++) {
                        struct json_object *m = json_object_array_get_idx(a, i);
                        printf("  %-9s %-32s %-8s %s\n", strempty(state_str(m, "stage")), strempty(state_str(m, "target")),
                               strempty(state_str(m, "fstype")), strempty(state_str(m, "source")));
                }
        }
        print_extensions(s);
        print_handoff(s);
        print_volume_key_measurements(s);
        if ((a = state_arr(s, "warnings")))
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        printf("Warning: %s\n", json_object_get_string(json_object_array_get_idx(a, i)));
}

/* The TPM's dictionary-attack state, live: the TPM named, else the
 * kernel's resource manager when there is one (status in the final OS). */
static void print_da(const char *tcti) {
        _cleanup_tpm2_ struct tpm2_ctx *c = NULL;
        _cleanup_free_ char *why = NULL;
        struct tpm2_da da;
        char s[512];

        if (!tcti && access("/dev/tpmrm0", F_OK) < 0)
                return;
        if (tpm2_open(tcti ? tcti : "device:/dev/tpmrm0", &c, &why) < 0 || tpm2_da_read(c, &da, &why) < 0) {
                printf("TPM: cannot read its dictionary-attack state: %s\n", why_or(why));
                return;
        }
        tpm2_da_describe(&da, s, sizeof(s));
        printf("%s\n", s);
}

int cmd_status(int argc, char **argv) {
        static const struct option opts[] = {
                { "root",       required_argument, NULL, 'r' },
                { "state-file", required_argument, NULL, 's' },
                { "json",       no_argument,       NULL, 'j' },
                { "tpm2-device", required_argument, NULL, 't' },
                { "svg",        required_argument, NULL, 'g' },
                { "help",       no_argument,       NULL, 'h' },
                {}
        };
        const char *root = "", *file = NULL, *tcti = NULL, *svg = NULL;
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "r:s:jh", opts, NULL)) >= 0)
                switch (c) {
                case 'r':
                        root = optarg;
                        break;
                case 's':
                        file = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 't':
                        tcti = optarg;
                        break;
                case 'g':
                        svg = optarg;
                        break;
                case 'h':
                        printf("usage: usi-init status [--root DIR | --state-file FILE] [--json] [--tpm2-device=TCTI]\n"
                               "                       [--svg FILE]\n"
                               "Show what the last boot did, from %s, and the TPM's dictionary-attack\n"
                               "state (the TPM named, else /dev/tpmrm0 when there is one).\n"
                               "--svg draws the boot's timeline instead (one bar per stage and per volume\n"
                               "step: found, unsealed, opened, mounted) into FILE (\"-\": standard output).\n",
                               STATE_FILE);
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                log_error("status: unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        _cleanup_free_ char *path = file ? strdup(file) : path_join(root, STATE_FILE);
        if (!path)
                return log_error("out of memory"), 1;
        struct json_object *s = NULL;
        _cleanup_free_ char *why = NULL;
        if (state_read(path, &s, &why) < 0) {
                log_error("status: %s", why);
                /* A node locked out of its TPM may have no record yet; the
                 * lockout is what its operator needs then. */
                if (!json)
                        print_da(tcti);
                return 1;
        }
        if (svg) {
                r = status_svg(s, svg, &why);
                json_object_put(s);
                if (r < 0)
                        return log_error("status: --svg: %s", why_or(why)), 1;
                return 0;
        }
        if (json)
                printf("%s\n", json_object_to_json_string_ext(s, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else {
                print_status(s);
                print_da(tcti);
        }
        int failed = streq_ptr(state_str(s, "outcome"), "failed");
        json_object_put(s);
        return failed ? 1 : 0;
}
