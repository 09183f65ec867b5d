#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Doxygen INPUT_FILTER for include/uiommu/*.h.

The headers name parameters kernel-doc style inside comments ("at most
@max entries").  Doxygen reads every @word as a command, so this filter
rewrites a parameter reference @word into doxygen's "@p word", keeping the
doxygen commands the headers use (COMMANDS).  @name is a command only as
the first word of a comment line ("/** @name Units */"); elsewhere it is
the parameter called name.  Line numbers are kept (warnings point at the
header).  A newcomer who uses another doxygen command adds it to COMMANDS.
"""
import re
import sys

COMMANDS = {
    "param", "return", "returns", "retval", "file", "brief", "p", "ref",
    "note", "see", "code", "endcode", "c", "warning", "defgroup", "ingroup",
    "addtogroup", "deprecated", "since", "details", "mainpage", "section",
}
WORD = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")
NAME_CMD = re.compile(r"^\s*(/\*\*|\*)\s*@name\s")


def fix(line):
    keep_name = bool(NAME_CMD.match(line))

    def sub(m):
        w = m.group(1)
        if w in COMMANDS or (w == "name" and keep_name):
            return m.group(0)
        return "@p " + w

    return WORD.sub(sub, line)


with open(sys.argv[1], encoding="utf-8") as f:
    for ln in f:
        sys.stdout.write(fix(ln))
