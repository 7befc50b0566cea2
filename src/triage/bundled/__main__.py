"""Print where a bundled data file is installed: ``python -m triage.bundled kb|tickets|models``.

For shell use with an installed wheel, e.g. ``triage kb build "$(python -m triage.bundled kb)" --out my-kb``.
"""

from __future__ import annotations

import sys

from triage.bundled import MODELS_DIR, BundledDataError, sample_kb_path, sample_tickets_path

CHOICES = ("kb", "tickets", "models")


def main(argv: list[str] | None = None) -> int:
    """Print the path named by the single argument; exit 2 with a usage line otherwise."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in CHOICES:
        print(f"usage: python -m triage.bundled {{{'|'.join(CHOICES)}}}", file=sys.stderr)
        return 2
    try:
        path = {"kb": sample_kb_path, "tickets": sample_tickets_path, "models": lambda: MODELS_DIR}[args[0]]()
    except BundledDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
