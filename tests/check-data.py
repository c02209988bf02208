#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of what Strata installs and ships beside its code.

    check-data.py po SOURCE_ROOT
        every .po passes msgfmt --check and translates every message that
        xgettext finds in the files of po/POTFILES.in
    check-data.py flatpak SOURCE_ROOT
        the Flatpak manifest parses, pins its runtime, and names pinned
        sources only
    check-data.py install BUILD_ROOT PREFIX
        `meson install --destdir` puts a complete tree in place
    check-data.py cli-fr STRATA_CLI STRATA
        LANGUAGE=fr: the --help of strata-cli, of each command and of strata
        are French
    check-data.py completion SOURCE_ROOT STRATA_CLI
        the bash completion offers every command and option --help lists
    check-data.py man SOURCE_ROOT STRATA_CLI
        the man pages are clean roff and document every option

Each writes what it checked, and exits 1 on the first problem found.
Temporary files go into a folder of their own, removed at the end.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

COMMANDS = ["analyze", "query", "stats", "render", "info", "simulate", "sync"]


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(args, env=None, check=True):
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        fail(f"{' '.join(args)} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def english_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["LC_ALL"] = "C.UTF-8"
    return env


def long_options(strata_cli, command):
    """The long options `strata-cli COMMAND --help` lists."""
    text = run([strata_cli, command, "--help"], env=english_env()).stdout
    return sorted(set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", text, re.M)))


# ---------------------------------------------------------------------------

# As meson's i18n.gettext(preset: 'glib') runs xgettext
XGETTEXT_ARGS = [
    "--from-code=UTF-8", "--add-comments",
    "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2", "--keyword=g_dngettext:2,3", "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format", "--flag=C_:2:pass-c-format", "--flag=NC_:2:pass-c-format",
    "--flag=g_dngettext:2:pass-c-format", "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format", "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format", "--flag=g_set_error:4:c-format",
    "--flag=g_markup_printf_escaped:1:c-format", "--flag=g_log:3:c-format",
    "--flag=g_print:1:c-format", "--flag=g_printerr:1:c-format", "--flag=g_printf:1:c-format",
    "--flag=g_fprintf:2:c-format", "--flag=g_sprintf:2:c-format", "--flag=g_snprintf:3:c-format",
]


def check_po(source_root):
    po_dir = os.path.join(source_root, "po")
    with open(os.path.join(po_dir, "LINGUAS")) as f:
        languages = [w for line in f for w in line.split("#")[0].split()]
    if not languages:
        fail("po/LINGUAS lists no language")
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "strata.pot")
        run(["xgettext", "--package-name=strata", f"--directory={source_root}",
             f"--files-from={os.path.join(po_dir, 'POTFILES.in')}", f"--output={pot}"] + XGETTEXT_ARGS)
        n = len(re.findall(r"^msgid ", open(pot, encoding="utf-8").read(), re.M)) - 1
        for lang in languages:
            po = os.path.join(po_dir, f"{lang}.po")
            if not os.path.exists(po):
                fail(f"{lang} is in po/LINGUAS but po/{lang}.po does not exist")
            stats = run(["msgfmt", "--check", "--statistics", "-o", os.devnull, po]).stderr.strip()
            print(f"po/{lang}.po: {stats}")
            if "fuzzy" in stats or "untranslated" in stats:
                fail(f"po/{lang}.po is not complete: {stats}")
            # Every message of the sources, translated (fuzzy and empty ones count as missing)
            result = run(["msgcmp", po, pot], check=False)
            if result.returncode != 0:
                fail(f"po/{lang}.po lacks messages of the sources (update it: see HACKING.md):\n"
                     f"{result.stderr}")
        print(f"{n} messages in the sources, all translated in: {', '.join(languages)}")


# ---------------------------------------------------------------------------

# Debian's source record of babeltrace2 2.0.4 (DESIGN.md, Packaging)
BABELTRACE2_SHA256 = "774f116685dab5db9c51577dde43c8c1df482aae6bb78a089b1e9e7c8b489bca"
BROAD_PERMISSIONS = ("--filesystem=host", "--filesystem=home", "--filesystem=/", "--share=network",
                     "--socket=session-bus", "--socket=system-bus", "--device=all")


def check_flatpak(source_root):
    path = os.path.join(source_root, "flatpak", "org.strata.Strata.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)

    if manifest.get("id") != "org.strata.Strata":
        fail(f"the manifest's id is {manifest.get('id')!r}, not the app id")
    if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
        fail("the manifest must build on the GNOME runtime (org.gnome.Platform, org.gnome.Sdk)")
    version = str(manifest.get("runtime-version", ""))
    if not re.fullmatch(r"\d+(\.\d+)?", version):
        fail(f"runtime-version {version!r} is not a stable release (a number, not master or nightly)")
    if manifest.get("command") != "strata":
        fail("the manifest's command is not strata")
    for arg in manifest.get("finish-args", []):
        if arg.startswith(BROAD_PERMISSIONS):
            fail(f"finish-args: {arg} is broader than Strata needs (files come through the portal)")
    for needed in ("--share=ipc", "--socket=wayland", "--socket=fallback-x11", "--device=dri"):
        if needed not in manifest.get("finish-args", []):
            fail(f"finish-args lacks {needed}")

    names = []

    def sources_of(modules):
        for module in modules:
            if isinstance(module, str):
                fail(f"module {module!r} is a file: inline it, so that this check sees its sources")
            names.append(module["name"])
            for source in module.get("sources", []):
                yield module["name"], source
            yield from sources_of(module.get("modules", []))

    for name, source in sources_of(manifest.get("modules", [])):
        kind = source.get("type")
        if kind in ("archive", "file"):
            if not re.fullmatch(r"[0-9a-f]{64}", source.get("sha256", "")):
                fail(f"module {name}: {source.get('url')} has no sha256")
            if not source.get("url", "").startswith("https://"):
                fail(f"module {name}: {source.get('url')} is not fetched over https")
        elif kind == "git":
            if not re.fullmatch(r"[0-9a-f]{40}", source.get("commit", "")):
                fail(f"module {name}: a git source must name its commit")
        elif kind == "dir":
            if os.path.isabs(source.get("path", "/")):
                fail(f"module {name}: a dir source must be this tree, by a relative path")
        else:
            fail(f"module {name}: source type {kind!r} is not pinned (use an archive with sha256)")
        if name == "babeltrace2" and source.get("sha256") != BABELTRACE2_SHA256:
            fail("babeltrace2's tarball is not 2.0.4's (DESIGN.md gives its sha256)")
    if names[-1:] != ["strata"] or "babeltrace2" not in names:
        fail(f"modules are {names}: babeltrace2, then strata last")
    print(f"{path}: runtime {manifest['runtime']} {version}, modules {', '.join(names)}, sources pinned")


# ---------------------------------------------------------------------------

def check_install(build_root, prefix):
    with tempfile.TemporaryDirectory() as destdir:
        run(["meson", "install", "-C", build_root, "--destdir", destdir, "--no-rebuild", "--quiet"])
        root = destdir + prefix
        app_id = "org.strata.Strata"
        expected = [
            "bin/strata", "bin/strata-cli",
            f"share/applications/{app_id}.desktop",
            f"share/metainfo/{app_id}.metainfo.xml",
            f"share/icons/hicolor/scalable/apps/{app_id}.svg",
            f"share/icons/hicolor/symbolic/apps/{app_id}-symbolic.svg",
            f"share/glib-2.0/schemas/{app_id}.gschema.xml",
            "share/locale/fr/LC_MESSAGES/strata.mo",
            "share/man/man1/strata.1", "share/man/man1/strata-cli.1",
            "share/bash-completion/completions/strata-cli",
        ]
        for rel in expected:
            path = os.path.join(root, rel)
            if not os.path.isfile(path):
                found = "\n".join(os.path.relpath(os.path.join(d, f), destdir)
                                  for d, _, fs in os.walk(destdir) for f in fs)
                fail(f"{rel} is not installed under {prefix}; installed:\n{found}")
            print(f"installed: {rel}")
        for binary in ("bin/strata", "bin/strata-cli"):
            if not os.access(os.path.join(root, binary), os.X_OK):
                fail(f"{binary} is not executable")

        desktop = os.path.join(root, f"share/applications/{app_id}.desktop")
        run(["desktop-file-validate", desktop])
        text = open(desktop, encoding="utf-8").read()
        if f"Icon={app_id}\n" not in text or "Comment[fr]=" not in text:
            fail("the installed desktop file lacks its icon or its French translation")
        metainfo = os.path.join(root, f"share/metainfo/{app_id}.metainfo.xml")
        run(["appstreamcli", "validate", "--no-net", metainfo])
        if f"{app_id}.desktop</launchable>" not in open(metainfo, encoding="utf-8").read():
            fail("the metainfo does not launch the installed desktop file")
        run(["glib-compile-schemas", "--strict", "--dry-run", os.path.join(root, "share/glib-2.0/schemas")])

        # The installed strata-cli speaks French with the installed catalog
        env = english_env()
        env.pop("LC_ALL")
        env.update(LANGUAGE="fr", STRATA_LOCALEDIR=os.path.join(root, "share/locale"))
        out = run([os.path.join(root, "bin/strata-cli"), "--help"], env=env).stdout
        if "Utilisation" not in out:
            fail(f"the installed strata-cli, with the installed translations, is not French:\n{out}")
        print(f"{len(expected)} files installed under {prefix}, desktop file, metainfo and schema valid")


# ---------------------------------------------------------------------------

def check_cli_fr(strata_cli, strata):
    french = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    french["LANGUAGE"] = "fr"
    english = english_env()

    out = run([strata_cli, "--help"], env=french).stdout
    for text in ("Utilisation", "Commandes", "Code de retour"):
        if text not in out:
            fail(f"strata-cli --help is not French (no {text!r}):\n{out}")
    print("strata-cli --help: French")

    for command in COMMANDS:
        en = run([strata_cli, command, "--help"], env=english).stdout
        fr = run([strata_cli, command, "--help"], env=french).stdout
        # Every description of an option, and the summary, differ from English
        # (the help options are GLib's, translated or not by GLib)
        options = en.split("Application Options:", 1)[-1]
        descriptions = re.findall(r"^\s+(?:-\w, )?--[\w-]+(?:=\S+)?\s{2,}(.+)$", options, re.M)
        paragraphs = [p for p in en.split("\n\n") if not p.startswith((" ", "Usage", "Help", "Application"))]
        for text in descriptions + paragraphs:
            if text.strip() and text.strip() in fr:
                fail(f"strata-cli {command} --help still says in French: {text.strip()!r}")
        print(f"strata-cli {command} --help: {len(descriptions)} options, French")

    # A message printed, not only the help
    result = run([strata_cli, "info"], env=french, check=False)
    if result.returncode != 2 or "aucun CHEMIN donné" not in result.stderr:
        fail(f"strata-cli info without PATH does not say so in French:\n{result.stderr}")
    print("strata-cli info: the usage error is French")

    if strata:
        out = run([strata, "--help"], env=french).stdout
        if "Ouvrir la démo" not in out or "Afficher la version et quitter" not in out:
            fail(f"strata --help is not French:\n{out}")
        print("strata --help: French")


# ---------------------------------------------------------------------------

COMPLETE = r'''
source "$BASH_COMPLETION"
source "$COMPLETION"
complete_line () {
    COMP_LINE="$1"
    read -r -a COMP_WORDS <<< "$1"
    [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _strata_cli strata-cli
    printf '%s\n' "${COMPREPLY[@]}"
}
complete_line "$LINE"
'''


def check_completion(source_root, strata_cli):
    bash_completion = "/usr/share/bash-completion/bash_completion"
    if not os.path.exists(bash_completion):
        fail(f"{bash_completion} is missing: install bash-completion (tools/install-deps does)")

    def complete(line):
        env = dict(os.environ, BASH_COMPLETION=bash_completion, LINE=line,
                   COMPLETION=os.path.join(source_root, "data", "completions", "strata-cli"))
        return sorted(w for w in run(["bash", "-c", COMPLETE], env=env).stdout.split("\n") if w)

    commands = complete("strata-cli ")
    if sorted(COMMANDS + ["--help", "--version"]) != commands:
        fail(f"strata-cli <TAB> offers {commands}")
    for command in COMMANDS:
        offered = complete(f"strata-cli {command} --")
        listed = long_options(strata_cli, command) + ["--help"]
        if sorted(set(listed)) != offered:
            fail(f"strata-cli {command} --<TAB> offers {offered}, --help lists {sorted(set(listed))}")
        print(f"strata-cli {command}: {len(offered)} options completed")
    for line, values in (("strata-cli render --view ", ["fvs", "threads", "vcpu"]),
                         ("strata-cli simulate --layout ", ["2.10", "2.13", "2.6"]),
                         ("strata-cli render --color-by ", ["machine", "state"])):
        if complete(line) != values:
            fail(f"{line!r}<TAB> offers {complete(line)}")
    scenarios = run([strata_cli, "simulate", "--help"], env=english_env()).stdout
    for scenario in complete("strata-cli simulate --scenario "):
        if not re.search(rf"^\s+{re.escape(scenario)}\s", scenarios, re.M):
            fail(f"the completion offers the scenario {scenario}, which simulate --help does not list")
    print("values of --view, --layout, --color-by and --scenario completed")


def check_man(source_root, strata_cli):
    env = english_env()
    for page in ("strata.1", "strata-cli.1"):
        path = os.path.join(source_root, "data", page)
        result = run(["groff", "-man", "-ww", "-z", "-Tutf8", path], env=env)
        if result.stderr.strip():
            fail(f"{page}: groff warns:\n{result.stderr}")
    page = open(os.path.join(source_root, "data", "strata-cli.1"), encoding="utf-8").read()
    page = page.replace("\\-", "-")
    for command in COMMANDS:
        if not re.search(rf"^\.B(R)? {command}\b", page, re.M):
            fail(f"strata-cli.1 does not describe the command {command}")
        for option in long_options(strata_cli, command):
            if not re.search(rf"{re.escape(option)}(?![\w-])", page):
                fail(f"strata-cli.1 does not document {option} of {command}")
    print("strata.1 and strata-cli.1: clean roff; every command and option of strata-cli documented")


def main():
    what = sys.argv[1]
    args = sys.argv[2:]
    if what == "po":
        check_po(*args)
    elif what == "flatpak":
        check_flatpak(*args)
    elif what == "install":
        check_install(*args)
    elif what == "cli-fr":
        check_cli_fr(*args)
    elif what == "completion":
        check_completion(*args)
    elif what == "man":
        check_man(*args)
    else:
        fail(f"unknown check {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
