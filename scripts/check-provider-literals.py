#!/usr/bin/env python3
"""The provider registry's rule (ARCHITECTURE.md): a provider's id, as a string literal, appears
only in its own folder (connectors/src/providers/<id>/), in its own audit rules, in the scanner's
format table, and in stand-ins, tests and docs. Everywhere else asks the registry.

Prints, per provider, how many literals stand in its own places and how many elsewhere; fails
when any stands elsewhere, naming each line. A Rust file's trailing `#[cfg(test)] mod tests` counts
as a test. Blind spots, by design: an id inside a longer string (help text) or in a module path
is not a literal of it; the audit rules may name any provider (a rule's folder is not tied to
one provider by name).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROVIDERS = sorted(p.name for p in (ROOT / "connectors/src/providers").iterdir() if p.is_dir())
# Where production code lives; everything else (fakes, tests, benches, fuzz, docs) may name providers.
SOURCES = ["core/src", "connectors/src", "cli/src", "src-tauri/src", "ui/src"]
ALLOWED = [
    "connectors/src/providers/{id}/",  # its own folder
    "core/src/audit/rules/",  # its own audit rules (each rule folder names the provider it judges)
    "core/src/scan/detect.rs",  # the scanner's format table
]
SUFFIXES = {".rs", ".ts", ".svelte"}


def literal(provider: str) -> re.Pattern:
    return re.compile(r"""["'`]""" + re.escape(provider) + r"""["'`]""")


def main() -> int:
    own = {p: 0 for p in PROVIDERS}
    stray: list[str] = []
    patterns = {p: literal(p) for p in PROVIDERS}
    for base in SOURCES:
        for path in sorted((ROOT / base).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file() or "node_modules" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            # Tests, and the UI's test fixtures (ui/src/test/: the fake shell and its registry).
            if rel.endswith(".test.ts") or rel.startswith("ui/src/test/") or path.name in ("tests.rs", "testing.rs"):
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                following = next((l.strip() for l in lines[number:] if l.strip()), "")
                if line.strip() == "#[cfg(test)]" and following.startswith(("mod ", "pub mod ")):
                    break  # the trailing test module
                stripped = line.lstrip()
                if stripped.startswith("//"):
                    continue  # comments
                if path.suffix != ".rs" and stripped.startswith(("*", "/*")):
                    continue  # TypeScript doc comments
                if "cfg" in line and 'feature = "' in line:
                    continue  # cargo features (`aws` is also a feature's name)
                for p, pattern in patterns.items():
                    if not pattern.search(line):
                        continue
                    if any(rel.startswith(a.format(id=p)) for a in ALLOWED):
                        own[p] += 1
                    else:
                        stray.append(f"{rel}:{number}: {p}: {line.strip()}")
    strays = {p: sum(1 for s in stray if s.split(": ")[1] == p) for p in PROVIDERS}
    for p in PROVIDERS:
        print(f"provider literals: {p:<15} {own[p]:>3} in its own places, {strays[p]} elsewhere")
    broken = [p for p in PROVIDERS if own[p] == 0]
    if broken:
        print(f"provider literals: check is broken (no literal found even in the own places of {broken})", file=sys.stderr)
        return 1
    if stray:
        print("provider literals outside the provider's own places (ask the registry instead):", file=sys.stderr)
        for s in stray:
            print(f"  {s}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
