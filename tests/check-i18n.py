#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every user-visible string of app/ is marked for translation, and every
file with marked strings is in po/POTFILES.in.

    check-i18n.py SOURCE_ROOT

C files: a string literal (adjacent literals and G_*_FORMAT macros joined)
that reads as text for people must be the argument of _(), N_(), C_(),
NC_(), g_dngettext() or ngettext(). Text for people is two words separated
by a space, or one word that is not an identifier, a key or a name (mixed
case like "vCPUs", or capitalized like "Threads"). Strings for developers
are exempt: the arguments of g_debug(), g_message(), g_warning(),
g_critical(), g_error(), g_assert*() and g_return_*(), D-Bus names and
GVariant formats (g_dbus_*(), g_variant_*()), and everything in
preprocessor lines.

GLib's format macros (G_GINT64_FORMAT) are refused in translatable
strings: xgettext cannot expand them, and would extract the string cut
short; gettext knows the <inttypes.h> ones (PRId64).

The allow-list, for a string that reads as text but must not be
translated: a comment saying "Not translated" (with the reason) on the
line of the string or on the line above it.

.ui files: the label, title, tooltip, placeholder and text properties,
and menu item labels, must have translatable="yes"; translatable="no"
says, on purpose, that one must not be.

Core library messages (GError in core/) are English by design: they go
into JSON and logs. core/ is not checked.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

MARKERS = {"_", "N_", "C_", "NC_", "Q_", "g_dngettext", "ngettext", "dngettext", "g_dgettext",
           "g_dpgettext2", "gettext", "dgettext"}
DEVELOPER_CALLS = re.compile(r"^(g_debug|g_info|g_message|g_warning|g_critical|g_error|g_log|"
                             r"g_assert\w*|g_return_\w+|g_test_\w+|G_OBJECT_WARN_INVALID_PROPERTY_ID|"
                             r"g_dbus_\w+|g_variant_\w+|G_VARIANT_TYPE\w*)$")
ALLOW_MARK = re.compile(r"not translated", re.IGNORECASE)
UI_PROPERTIES = {"label", "title", "subtitle", "tooltip-text", "tooltip-markup", "placeholder-text",
                 "text", "secondary-text", "description", "program-name", "comments", "copyright",
                 "website-label", "translator-credits"}

FORMAT = re.compile(r"%[-+ #0'*.0-9]*(hh|h|ll|l|L|z|j|t)?[diouxXeEfFgGaAcspn%]")
ESCAPE = re.compile(r"\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)")


def is_text(s):
    """Whether a string reads as text for people."""
    t = ESCAPE.sub(" ", s)
    t = FORMAT.sub(" ", t)
    t = t.replace("\x1b", " ")
    stripped = t.strip()
    if not re.search(r"[^\W\d_]{2,}", t):
        return False
    if re.fullmatch(r"(<\w+>)+\w+", stripped):            # accelerators
        return False
    if stripped.startswith("/") or "://" in stripped:     # resource paths, URIs
        return False
    if re.search(r"[^\W\d_]{2,}[,:;.!?…’']*\s+[(“\"«]?[^\W\d_]{2,}", t):
        return True
    if re.fullmatch(r"[a-z0-9_.\-:=/%+*]+", stripped):     # identifiers, keys, file names, globs
        return False
    if re.fullmatch(r"[A-Z0-9_.\-]+", stripped):          # constants, environment variables, charsets
        return False
    return True


def strip_comments(text):
    """The C source with comments and preprocessor lines blanked (offsets and
    line numbers kept)."""
    out = []
    i = 0
    n = len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            j = i
            while j < n and not (text[j] == "\n" and text[j - 1] != "\\"):
                j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if c in " \t":
            out.append(c)
            i += 1
            continue
        line_start = c == "\n"
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


STRING_CHAIN = re.compile(r'"(?:[^"\\\n]|\\.)*"(?:\s*(?:G_\w+_FORMAT|G_\w+_MODIFIER|PRI\w+|"(?:[^"\\\n]|\\.)*"))*')


def enclosing_call(code, start):
    """The name of the function whose arguments include offset start."""
    depth = 0
    i = start - 1
    while i >= 0:
        c = code[i]
        if c == ")" or c == "]" or c == "}":
            depth += 1
        elif c == "(" or c == "[" or c == "{":
            if depth == 0:
                if c != "(":
                    return None
                m = re.search(r"([A-Za-z_]\w*)\s*$", code[:i])
                return m.group(1) if m else None
            depth -= 1
        elif c == ";" and depth == 0:
            return None
        i -= 1
    return None


def check_c(path, rel):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    raw_lines = raw.split("\n")
    code = strip_comments(raw)
    problems = []
    marked = False
    for m in STRING_CHAIN.finditer(code):
        literal = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)))
        call = enclosing_call(code, m.start())
        if call in MARKERS:
            marked = True
            if re.search(r"\bG_\w+_(FORMAT|MODIFIER)\b", m.group(0)):
                line = code.count("\n", 0, m.start())
                problems.append(f"{rel}:{line + 1}: xgettext cannot read GLib's format macros in a "
                                f"translatable string: use PRId64 and the other <inttypes.h> macros")
            continue
        if not is_text(literal):
            continue
        if call is not None and DEVELOPER_CALLS.match(call):
            continue
        line = code.count("\n", 0, m.start())
        nearby = raw_lines[max(0, line - 1):line + 1]
        if any(ALLOW_MARK.search(l) for l in nearby):
            continue
        problems.append(f"{rel}:{line + 1}: not marked for translation: \"{literal}\"")
    return problems, marked


def check_ui(path, rel):
    problems = []
    marked = False
    tree = ET.parse(path)
    for element in tree.iter():
        if element.tag not in ("property", "attribute", "item"):
            continue
        name = element.get("name")
        if element.tag == "property" and name not in UI_PROPERTIES:
            continue
        if element.tag == "attribute" and name != "label":
            continue
        text = (element.text or "").strip()
        translatable = element.get("translatable")
        if translatable in ("yes", "true", "1"):
            marked = True
            continue
        if translatable in ("no", "false", "0") or not re.search(r"[^\W\d_]", text):
            continue
        problems.append(f"{rel}: <{element.tag} name=\"{name}\"> not marked translatable: \"{text}\"")
    return problems, marked


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    with open(os.path.join(root, "po", "POTFILES.in"), encoding="utf-8") as f:
        potfiles = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    for listed in sorted(potfiles):
        if not os.path.exists(os.path.join(root, listed)):
            problems.append(f"po/POTFILES.in: {listed} does not exist")

    n_files = 0
    for folder, _, files in os.walk(os.path.join(root, "app")):
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if name.endswith(".c"):
                found, marked = check_c(path, rel)
            elif name.endswith(".ui"):
                found, marked = check_ui(path, rel)
            else:
                continue
            n_files += 1
            problems += found
            if marked and rel not in potfiles:
                problems.append(f"{rel}: has translatable strings but is not in po/POTFILES.in")

    # core/ is not checked for unmarked strings, but its marked ones must
    # reach the translators too
    for folder, _, files in os.walk(os.path.join(root, "core")):
        for name in sorted(files):
            if name.endswith(".c"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root)
                code = strip_comments(open(path, encoding="utf-8").read())
                if re.search(r"\b(N?C?_|g_dngettext|g_dgettext)\s*\(\s*\"", code) and rel not in potfiles:
                    problems.append(f"{rel}: has translatable strings but is not in po/POTFILES.in")

    for p in problems:
        print(p)
    print(f"{n_files} files of app/ checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
