#!/usr/bin/env python3
"""Every Swift target names exactly the modules it imports as its dependencies (Package.swift).

SwiftPM's own check (`--explicit-target-dependency-import-check error`, which the Makefile also
passes) stops a build whose target imports a module of the package that is not among its
dependencies *or their dependencies*: a module reached through another target passes. This
script holds the stricter rule the layers rely on: each module a target's Swift files import
(the package's targets and the products of its package dependencies) is one of its direct
dependencies, and each direct dependency is imported by at least one of its files, so
Package.swift says what every layer is built on.

Usage: python3 scripts/check-target-imports.py   (from the package root; exit 1 on a mismatch)
"""
import json
import os
import re
import subprocess
import sys

# Modules of the toolchain and the platform, which no manifest declares.
SYSTEM_MODULES = {
    "Swift", "_Concurrency", "Foundation", "FoundationEssentials", "FoundationNetworking",
    "FoundationXML", "Dispatch", "Synchronization", "Glibc", "Musl", "Darwin", "Android",
    "WinSDK", "os", "Testing", "XCTest",
}

IMPORT = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|package\s+|internal\s+)?import\s+"
    r"(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_]\w*)",
    re.MULTILINE)
# Multi-line string literals (plain or raw) hold other languages' code (Python's `import numpy`).
MULTILINE_STRING = re.compile(r'(#*)"""[\s\S]*?"""\1')


def imports_of(folder):
    found = set()
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".swift"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    text = MULTILINE_STRING.sub("", f.read())
                found.update(IMPORT.findall(text))
    return found


def declared(target):
    names = set()
    for dependency in target["dependencies"]:
        (kind, value), = dependency.items()
        names.add(value[0])  # byName, target and product all lead with the module's name
    return names


def main():
    manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True,
                                         capture_output=True, text=True).stdout)
    failures = []
    for target in manifest["targets"]:
        if target["type"] in ("system", "binary", "plugin", "macro"):
            continue
        folder = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources",
                                                    target["name"])
        imported = imports_of(folder)
        if not any(name.endswith(".swift") for _, _, files in os.walk(folder) for name in files):
            continue  # a C target: its headers say what it includes
        imported -= SYSTEM_MODULES
        dependencies = declared(target)
        missing = sorted(imported - dependencies)
        unused = sorted(dependencies - imported)
        if missing:
            failures.append(f"{target['name']} imports {', '.join(missing)} without naming "
                            f"{'it' if len(missing) == 1 else 'them'} as a dependency")
        if unused:
            failures.append(f"{target['name']} names {', '.join(unused)} as a dependency but imports "
                            f"{'it' if len(unused) == 1 else 'them'} nowhere")
    for line in failures:
        print(f"error: {line}", file=sys.stderr)
    if failures:
        return 1
    print(f"imports: every target names exactly the modules it imports ({len(manifest['targets'])} targets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
