/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

#include "cmdline.h"
#include "why.h"
#include "safe-open.h"

static const char *const on_failure_names[] = {
        [ON_FAILURE_HALT] = "halt",
        [ON_FAILURE_REBOOT] = "reboot",
        [ON_FAILURE_SHELL] = "shell",
};

const char *on_failure_to_string(enum on_failure f) {
        if (f <= ON_FAILURE_UNSET || (size_t) f >= ELEMENTSOF(on_failure_names))
                return NULL;
        return on_failure_names[f];
}

enum on_failure on_failure_from_string(const char *s) {
        for (size_t i = 1; i < ELEMENTSOF(on_failure_names); i++)
                if (s && streq(s, on_failure_names[i]))
                        return (enum on_failure) i;
        return ON_FAILURE_UNSET;
}

/* Index 0 is the default, also for a value not listed (as before these
 * went through the table). NULL-terminated for apply_option(). */
static const char *const fsck_mode_names[] = {
        [FSCK_AUTO] = "auto", [FSCK_FORCE] = "force", [FSCK_SKIP] = "skip", NULL,
};
static const char *const fsck_repair_names[] = {
        [FSCK_REPAIR_PREEN] = "preen", [FSCK_REPAIR_YES] = "yes", [FSCK_REPAIR_NO] = "no", NULL,
};

const char *fsck_mode_to_string(enum fsck_mode m) {
        return (unsigned) m < _FSCK_MODE_MAX ? fsck_mode_names[m] : NULL;
}

const char *fsck_repair_to_string(enum fsck_repair r) {
        return (unsigned) r < _FSCK_REPAIR_MAX ? fsck_repair_names[r] : NULL;
}

void cmdline_init(struct cmdline *c) {
        *c = (struct cmdline) {
                .timeout_sec = -1,
                .oem_timeout_sec = -1,
        };
}

void cmdline_done(struct cmdline *c) {
        free(c->break_stage);
        free(c->config);
        free(c->tpm2_device);
        free(c->init);
        free(c->oem_label);
        free(c->overlay);
        free(c->root);
        strv_clear(&c->init_args);
        strv_clear(&c->warnings);
        cmdline_init(c);
}

static char *skip_spaces(char *s) {
        while (*s && isspace((unsigned char) *s))
                s++;
        return s;
}

/* One word, the kernel's way: returns the start of the next word. */
static char *next_word(char *args, char **param, char **val) {
        size_t i, equals = 0;
        bool in_quote = false, quoted = false;

        if (*args == '"') {
                args++;
                in_quote = quoted = true;
        }
        for (i = 0; args[i]; i++) {
                if (isspace((unsigned char) args[i]) && !in_quote)
                        break;
                if (equals == 0 && args[i] == '=')
                        equals = i;
                if (args[i] == '"')
                        in_quote = !in_quote;
        }

        *param = args;
        *val = NULL;
        if (equals) {
                args[equals] = '\0';
                *val = args + equals + 1;
                if (**val == '"') {
                        (*val)++;
                        if (args[i - 1] == '"')
                                args[i - 1] = '\0';
                }
        }
        if (quoted && i > 0 && args[i - 1] == '"')
                args[i - 1] = '\0';

        if (args[i]) {
                args[i] = '\0';
                args += i + 1;
        } else
                args += i;
        return skip_spaces(args);
}

int cmdline_split(const char *line, cmdline_word_cb cb, void *userdata, const char **rest) {
        _cleanup_free_ char *buf = strdup(line ? line : "");
        char *p;

        if (!buf)
                return -ENOMEM;
        if (rest)
                *rest = NULL;

        p = skip_spaces(buf);
        while (*p) {
                char *param, *val;

                p = next_word(p, &param, &val);
                if (!val && streq(param, "--")) {
                        if (rest)
                                *rest = line + (p - buf);
                        return 0;
                }
                int r = cb(param, val, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- options ---------------------------------------------------------- */

enum opt_kind { OPT_FLAG, OPT_STRING, OPT_SECONDS, OPT_ON_FAILURE, OPT_REBOOT_FLAG, OPT_CHOICE, OPT_PRESENT };

struct cmdline_option {
        const char *name;
        enum opt_kind kind;
        size_t offset;                 /* into struct cmdline */
        const char *const *choices;    /* OPT_CHOICE: the enum's names, NULL-terminated */
};

#define OFF(field) offsetof(struct cmdline, field), NULL
#define CHOICE(field, names) offsetof(struct cmdline, field), names

/* The table is the whole interface: aliases point at the same field, so the
 * last occurrence of either spelling wins. */
static const struct cmdline_option options[] = {
        { "rd.usi.debug",              OPT_FLAG,         OFF(debug) },
        { "rd.usi.shell",              OPT_FLAG,         OFF(shell) },
        { "rd.usi.break",              OPT_STRING,       OFF(break_stage) },
        { "rd.usi.timeout",            OPT_SECONDS,      OFF(timeout_sec) },
        { "rd.usi.config",             OPT_STRING,       OFF(config) },
        { "rd.usi.on_failure",         OPT_ON_FAILURE,   OFF(on_failure) },
        { "rd.usi.tpm2_device",        OPT_STRING,       OFF(tpm2_device) },
        { "init",                      OPT_STRING,       OFF(init) },
        { "rd.immucore.debug",         OPT_FLAG,         OFF(debug) },
        { "rd.immucore.oemlabel",      OPT_STRING,       OFF(oem_label) },
        { "rd.immucore.oemtimeout",    OPT_SECONDS,      OFF(oem_timeout_sec) },
        { "rd.immucore.rebootonfailure", OPT_REBOOT_FLAG, OFF(on_failure) },
        { "rd.immucore.overlay",       OPT_STRING,       OFF(overlay) },
        { "rd.cos.overlay",            OPT_STRING,       OFF(overlay) },
        { "rd.immucore.uki",           OPT_FLAG,         OFF(uki) },
        { "rd.usi.insecure",           OPT_FLAG,         OFF(insecure) },
        { "rd.immucore.securebootdisabled", OPT_FLAG,    OFF(insecure) },
        { "fsck.mode",                 OPT_CHOICE,       CHOICE(fsck.mode, fsck_mode_names) },
        { "fsck.repair",               OPT_CHOICE,       CHOICE(fsck.repair, fsck_repair_names) },
        /* Kairos' boot mode, whole words only (src/plan/kairos-mode.h). */
        { "root",                      OPT_STRING,       OFF(root) },
        { "kairos.reset",              OPT_PRESENT,      OFF(kairos_words[KAIROS_WORD_RESET]) },
        { "recovery-mode",             OPT_PRESENT,      OFF(kairos_words[KAIROS_WORD_RECOVERY]) },
        { "netboot",                   OPT_PRESENT,      OFF(kairos_words[KAIROS_WORD_NETBOOT]) },
};

static bool parse_bool_value(const char *v, bool *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        if (!v) {
                *ret = true;
                return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(v, yes[i])) {
                        *ret = true;
                        return true;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (streq(v, no[i])) {
                        *ret = false;
                        return true;
                }
        return false;
}

static int apply_option(struct cmdline *c, const struct cmdline_option *o, const char *val) {
        void *field = (char *) c + o->offset;
        unsigned u;
        bool b;

        switch (o->kind) {
        case OPT_FLAG:
                if (!parse_bool_value(val, &b))
                        return strv_pushf(&c->warnings, "%s=%s: expected a boolean (1/0, yes/no), ignored", o->name, strempty(val));
                *(bool *) field = b;
                return 0;
        case OPT_REBOOT_FLAG:
                if (!parse_bool_value(val, &b))
                        return strv_pushf(&c->warnings, "%s=%s: expected a boolean (1/0, yes/no), ignored", o->name, strempty(val));
                *(enum on_failure *) field = b ? ON_FAILURE_REBOOT : ON_FAILURE_UNSET;
                return 0;
        case OPT_STRING:
                if (!val || !*val)
                        return strv_pushf(&c->warnings, "%s: expected a value (%s=...), ignored", o->name, o->name);
                return free_and_strdup((char **) field, val);
        case OPT_SECONDS:
                if (!val || safe_atou(val, &u) < 0 || u > INT_MAX / 1000)
                        return strv_pushf(&c->warnings, "%s=%s: expected a number of seconds, ignored", o->name, strempty(val));
                *(int *) field = (int) u;
                return 0;
        case OPT_PRESENT:
                *(bool *) field = true;
                return 0;
        case OPT_CHOICE: {
                /* A bare word says nothing; an unknown value is the default. */
                if (!val)
                        return 0;
                int i = 0;
                while (o->choices[i] && !streq(o->choices[i], val))
                        i++;
                *(int *) field = o->choices[i] ? i : 0;
                return 0;
        }
        case OPT_ON_FAILURE: {
                enum on_failure f = on_failure_from_string(val);
                if (f == ON_FAILURE_UNSET)
                        return strv_pushf(&c->warnings, "%s=%s: expected halt, reboot or shell, ignored", o->name, strempty(val));
                *(enum on_failure *) field = f;
                return 0;
        }
        }
        return 0;
}

static int on_word(const char *param, const char *val, void *userdata) {
        struct cmdline *c = userdata;

        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                if (streq(param, options[i].name))
                        return apply_option(c, &options[i], val);

        if (startswith(param, "rd.usi."))
                return strv_pushf(&c->warnings, "unknown kernel command line option %s, ignored", param);
        return 0;
}

static int on_init_word(const char *param, const char *val, void *userdata) {
        strv *args = userdata;
        char buf[4096];

        if (!val)
                return strv_push(args, param);
        if ((size_t) snprintf(buf, sizeof buf, "%s=%s", param, val) >= sizeof buf)
                return -E2BIG;
        return strv_push(args, buf);
}

int cmdline_parse(const char *line, struct cmdline *c) {
        const char *rest;
        int r;

        r = cmdline_split(line, on_word, c, &rest);
        if (r < 0)
                return r;
        if (rest)
                return cmdline_split(rest, on_init_word, &c->init_args, NULL);
        return 0;
}

int cmdline_read_file(const char *path, char **ret, char **why) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = safe_read_path(path, SAFE_CMDLINE_MAX, &buf, &len, why);
        if (r < 0)
                return r;
        /* NULs (from /proc/<pid>/cmdline style files) and newlines separate words. */
        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\0' || buf[i] == '\n')
                        buf[i] = ' ';
        *ret = TAKE_PTR(buf);
        return 0;
}
