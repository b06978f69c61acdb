/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How file contents are copied, best first. Seeding starts with
 * COPY_RANGE and steps down for good once a file system refused a way, so
 * a tree that cannot take copy_file_range (another file system, as the
 * image and the persistent volume always are) costs one refused call, not
 * one per file. */
enum copy_way {
        COPY_RANGE,             /* copy_file_range: reflink or in-kernel copy */
        COPY_SENDFILE,          /* in-kernel copy through the page cache */
        COPY_READ_WRITE,        /* anything that reads and writes */
};

/* Copy `in` from its offset to its end into `out` at its offset. *way is
 * the best way not refused so far; lowered here when one is. Returns 0 or a
 * negative errno. */
int copy_data(int in, int out, enum copy_way *way);
