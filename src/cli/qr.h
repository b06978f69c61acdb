/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "secret.h"

/* Show `text` (NUL-terminated) as a QR code on `fd` when it is a terminal,
 * as systemd-cryptenroll does for a recovery key, so a phone can take it
 * without it being typed or photographed as text. libqrencode is loaded at
 * run time: a system without it, or a build without its header, shows the
 * text alone. */
void qr_show(int fd, const struct secret *text);
