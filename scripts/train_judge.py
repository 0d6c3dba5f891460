"""Rebuild the bundled offline judge (harness/reward_heads/data/evidence_judge/) from AnnoMI.

    python scripts/train_judge.py [--annomi ../shared/data/annomi/AnnoMI-full.csv] [--out FOLDER]

Sessions are split once by a sha256 of the transcript id within each MI-quality stratum (30% held out, recorded in
heads.json): the behaviour classifier and the fitted heads see only the training sessions, and
`theraeval judges validate ... annomi:<csv>` measures this judge on the held-out sessions only. Writes the
classifier, one head per criterion, heads.json and metrics in the manifest (no utterance). Deterministic; about a
minute on two CPU cores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.judge_validity import build_evidence_judge  # noqa: E402
from harness.reward_heads import BUNDLED_HEADS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annomi", default=str(ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"))
    ap.add_argument("--out", default=str(BUNDLED_HEADS))
    a = ap.parse_args(argv)
    manifest = build_evidence_judge(a.annomi, Path(a.out))
    clf = manifest["behaviour_classifier"]
    print(f"behaviour classifier: held-out-session accuracy {clf['heldout_accuracy']:.3f} "
          f"(majority class {clf['heldout_majority']:.3f}), {clf['n_train']} train utterances")
    for c, e in manifest["criteria"].items():
        m = e["metrics"]
        print(f"{c:<24} {m['weights']:<44} held-out AnnoMI pairs: "
              f"{'-' if m.get('heldout_accuracy') is None else format(m['heldout_accuracy'], '.3f')}")
    print(f"written {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
