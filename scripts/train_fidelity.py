"""Rebuild the bundled fidelity classifiers (harness/fidelity/data/) from AnnoMI.

    python scripts/train_fidelity.py [--annomi ../shared/data/annomi/AnnoMI-full.csv] [--out harness/fidelity/data]

Writes role_classifier.json, talk_type_classifier.json, annomi_reference.json and metrics.json (held-out-by-session
figures, the numbers of harness/fidelity/data/DATA_CARD.md). Deterministic: the splits are seeded and the
encoder is frozen. Takes a few minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.core import atomic_write_text  # noqa: E402
from harness.fidelity import DATA_DIR, train_bundled  # noqa: E402
from harness.inputs import resolve_scenarios  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annomi", default=str(ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"))
    ap.add_argument("--out", default=str(DATA_DIR))
    a = ap.parse_args(argv)
    openings = [s.text for s in resolve_scenarios("builtin")]
    metrics = train_bundled(a.annomi, Path(a.out), sanity={"bundled scenario openings read as client":
                                                            (openings, "client")})
    out = Path(a.out) / "metrics.json"
    atomic_write_text(out, json.dumps(metrics, indent=1) + "\n")
    r, t = metrics["role"], metrics["talk_type"]
    print(f"role: held-out accuracy {r['accuracy']:.3f} (GroupKFold {r['group_kfold']['accuracy_mean']:.3f} "
          f"+- {r['group_kfold']['accuracy_sd']:.3f}); talk type: accuracy {t['accuracy']:.3f}, "
          f"macro-F1 {t['macro_f1']:.3f}; written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
