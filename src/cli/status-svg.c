/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state-read.h"
#include "status-svg.h"
#include "util.h"
#include "why.h"

/* The boot's timeline from state.json, drawn as SVG by hand: one row per
 * stage, one per volume with its steps. Every bar carries the record's
 * numbers (data-start-ms, data-end-ms) so a test, or a person with a text
 * editor, can check a bar against the record it came from. */

#define LABEL_W 170
#define CHART_W 720
#define ROW_H 22
#define TOP 40

/* A volume's steps: from the record's timestamp before it (the devices
 * stage's start for "found") to its own. */
static const struct {
        const char *step, *key, *color;
} volume_steps[] = {
        { "found",    "found_at_ms",    "#9bb8d3" },
        { "unsealed", "unsealed_at_ms", "#d9a441" },
        { "opened",   "opened_at_ms",   "#6aa84f" },
        { "mounted",  "mounted_at_ms",  "#3d85c6" },
};

struct span {
        uint64_t t0, t1;
};

static void xml_escaped(FILE *f, const char *s) {
        static const struct {
                char c;
                const char *e;
        } ents[] = { { '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" }, { '"', "&quot;" }, { '\'', "&apos;" } };

        for (; s && *s; s++) {
                size_t i;
                for (i = 0; i < ELEMENTSOF(ents) && ents[i].c != *s; i++)
                        ;
                if (i < ELEMENTSOF(ents))
                        fputs(ents[i].e, f);
                else if ((unsigned char) *s >= 0x20)
                        fputc(*s, f);
        }
}

static uint64_t num(struct json_object *o, const char *key) {
        int64_t v = state_num(o, key);
        return v > 0 ? (uint64_t) v : 0;
}

static void widen(struct span *s, uint64_t a, uint64_t b) {
        if (!a || !b || b < a)
                return;
        if (!s->t0 || a < s->t0)
                s->t0 = a;
        if (b > s->t1)
                s->t1 = b;
}

static double x_of(const struct span *s, uint64_t t) {
        return LABEL_W + (double) (t - s->t0) * CHART_W / (double) (s->t1 - s->t0);
}

static void bar(FILE *f, const struct span *s, unsigned row, uint64_t a, uint64_t b, const char *color,
                const char *cls, const char *name, const char *step) {
        double x = x_of(s, a), w = x_of(s, b) - x;

        fprintf(f, "<rect class=\"%s\" data-name=\"", cls);
        xml_escaped(f, name);
        if (step)
                fprintf(f, "\" data-step=\"%s", step);
        fprintf(f, "\" data-start-ms=\"%llu\" data-end-ms=\"%llu\" x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%u\" "
                "fill=\"%s\"><title>", (unsigned long long) a, (unsigned long long) b, x, TOP + row * ROW_H + 3,
                w < 1 ? 1.0 : w, ROW_H - 6, color);
        xml_escaped(f, name);
        fprintf(f, "%s%s: %llu ms</title></rect>\n", step ? " " : "", step ? step : "", (unsigned long long) (b - a));
}

static void label(FILE *f, unsigned row, const char *text, const char *suffix) {
        fprintf(f, "<text x=\"6\" y=\"%u\">", TOP + row * ROW_H + ROW_H / 2 + 4);
        xml_escaped(f, text);
        fprintf(f, "%s</text>\n", suffix);
}

static int draw(FILE *f, struct json_object *s) {
        struct json_object *stages = state_arr(s, "stages"), *vols = state_arr(s, "volumes");
        size_t n_st = stages ? json_object_array_length(stages) : 0, n_v = vols ? json_object_array_length(vols) : 0;
        uint64_t devices_start = 0;
        struct span sp = {};
        unsigned row = 0;

        for (size_t i = 0; i < n_st; i++) {
                struct json_object *e = json_object_array_get_idx(stages, i);
                widen(&sp, num(e, "start_ms"), num(e, "end_ms"));
                if (streq_ptr(state_str(e, "name"), "devices"))
                        devices_start = num(e, "start_ms");
        }
        for (size_t i = 0; i < n_v; i++) {
                struct json_object *v = json_object_array_get_idx(vols, i);
                for (size_t k = 0; k < ELEMENTSOF(volume_steps); k++)
                        widen(&sp, num(v, volume_steps[k].key), num(v, volume_steps[k].key));
        }
        if (!sp.t0 || sp.t1 <= sp.t0)
                return -ENODATA;

        unsigned height = TOP + (unsigned) (n_st + n_v) * ROW_H + 30;
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" font-family=\"sans-serif\" "
                "font-size=\"12\" data-t0-ms=\"%llu\" data-t1-ms=\"%llu\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"6\" y=\"18\" font-size=\"14\">usi-init boot: outcome %s, %llu ms from the first stage "
                "to the last (ms since the kernel started: %llu to %llu)</text>\n",
                LABEL_W + CHART_W + 20, height, (unsigned long long) sp.t0, (unsigned long long) sp.t1,
                strempty(state_str(s, "outcome")), (unsigned long long) (sp.t1 - sp.t0),
                (unsigned long long) sp.t0, (unsigned long long) sp.t1);
        /* At most ten ticks, at 1, 2 or 5 times a power of ten ms. */
        uint64_t span = sp.t1 - sp.t0, step = 0;
        for (uint64_t d = 1; !step; d *= 10)
                for (size_t k = 0; k < 3 && !step; k++)
                        if (d * (const uint64_t[]) { 1, 2, 5 }[k] * 10 >= span)
                                step = d * (const uint64_t[]) { 1, 2, 5 }[k];
        for (uint64_t t = 0; t <= span; t += step) {
                double x = x_of(&sp, sp.t0 + t);
                fprintf(f, "<line x1=\"%.2f\" y1=\"%u\" x2=\"%.2f\" y2=\"%u\" stroke=\"#ddd\"/>"
                        "<text x=\"%.2f\" y=\"%u\" font-size=\"10\" text-anchor=\"middle\">+%llu ms</text>\n",
                        x, TOP, x, height - 24, x, height - 10, (unsigned long long) t);
        }
        for (size_t i = 0; i < n_st; i++, row++) {
                struct json_object *e = json_object_array_get_idx(stages, i);
                const char *name = strempty(state_str(e, "name"));
                bool ok = streq_ptr(state_str(e, "result"), "ok");

                label(f, row, name, ok ? "" : " (failed)");
                if (num(e, "start_ms") && num(e, "end_ms") >= num(e, "start_ms"))
                        bar(f, &sp, row, num(e, "start_ms"), num(e, "end_ms"), ok ? "#888" : "#cc0000", "stage",
                            name, NULL);
        }
        for (size_t i = 0; i < n_v; i++, row++) {
                struct json_object *v = json_object_array_get_idx(vols, i);
                const char *name = strempty(state_str(v, "name"));
                uint64_t from = devices_start;

                label(f, row, name, "");
                for (size_t k = 0; k < ELEMENTSOF(volume_steps); k++) {
                        uint64_t to = num(v, volume_steps[k].key);
                        if (!to)
                                continue;
                        if (from && to >= from)
                                bar(f, &sp, row, from, to, volume_steps[k].color, "volume", name, volume_steps[k].step);
                        from = to;
                }
        }
        fputs("</svg>\n", f);
        return 0;
}

int status_svg(struct json_object *state, const char *path, char **why) {
        _cleanup_close_ int fd = -EBADF;
        FILE *f;
        int r;

        fd = streq(path, "-") ? dup(STDOUT_FILENO) :
             open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0)
                return why_set(why, errno, "%s: %s", path, strerror(errno));
        if (!(f = fdopen(fd, "w")))
                return why_set(why, errno, "%s: %s", path, strerror(errno));
        fd = -EBADF;
        r = draw(f, state);
        if (fclose(f) != 0 && r >= 0)
                return why_set(why, EIO, "%s: cannot write", path);
        if (r == -ENODATA)
                return why_set(why, r, "the record has no timed stage to draw");
        return r;
}
