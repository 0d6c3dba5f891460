"""Rebuild a bundled offline judge from AnnoMI: the default (harness/reward_heads/data/evidence_judge/), or with
`--finetune` the fine-tuned variant (harness/reward_heads/data/finetuned_judge/).

    python scripts/train_judge.py [--annomi ../shared/data/annomi/AnnoMI-full.csv] [--out FOLDER]
    python scripts/train_judge.py --finetune [--adapter TRAINED.safetensors] [--out FOLDER]

Sessions are split once by a sha256 of the transcript id within each MI-quality stratum (30% held out, recorded in
heads.json): the behaviour classifier and the fitted heads see only the training sessions, and
`theraeval judges validate ... annomi:<csv>` measures this judge on the held-out sessions only. Writes the
classifier, one head per criterion, heads.json and metrics in the manifest (no utterance). Deterministic; about a
minute on two CPU cores.

`--finetune` first fine-tunes LoRA adapters on the bundled MiniLM as a cross-encoder over (client turn, therapist
turn) predicting the therapist's behaviour code and the client's next talk type, on the training sessions (15% of
them pick the epoch), seeded; about 20 minutes on two CPU cores (OMP_NUM_THREADS=2). `--adapter` skips the training
and builds the judge around an adapter file it wrote before. Loads local files only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.judge_validity import build_evidence_judge, train_finetuned_encoder  # noqa: E402
from harness.reward_heads import ADAPTER_FILE, BUNDLED_HEADS, FINETUNED_HEADS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annomi", default=str(ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"))
    ap.add_argument("--out", default=None, help="default: the bundled judge's folder (the variant's with --finetune)")
    ap.add_argument("--finetune", action="store_true", help="fine-tune the behaviour cross-encoder (LoRA)")
    ap.add_argument("--adapter", default=None, help="with --finetune: an adapter file trained before (no training)")
    a = ap.parse_args(argv)
    out = Path(a.out or (FINETUNED_HEADS if a.finetune else BUNDLED_HEADS))
    record = None
    if a.finetune:
        out.mkdir(parents=True, exist_ok=True)
        if a.adapter and Path(a.adapter).resolve() != (out / ADAPTER_FILE).resolve():
            shutil.copyfile(a.adapter, out / ADAPTER_FILE)
        record = train_finetuned_encoder(a.annomi, out / ADAPTER_FILE, trained=bool(a.adapter),
                                         log=lambda m: print(m, flush=True))
        h = record["heldout"]
        print(f"fine-tuned encoder: held-out-session behaviour accuracy {h['behaviour_accuracy']:.3f} (majority "
              f"{h['behaviour_majority']:.3f}), next client talk {h['talk_accuracy']:.3f} (majority "
              f"{h['talk_majority']:.3f}); kept epoch {record['kept_epoch']}, {record['train_seconds']:.0f} s")
    manifest = build_evidence_judge(a.annomi, out, finetuned=record)
    clf = manifest.get("behaviour_classifier")
    if clf:
        print(f"behaviour classifier: held-out-session accuracy {clf['heldout_accuracy']:.3f} "
              f"(majority class {clf['heldout_majority']:.3f}), {clf['n_train']} train utterances")
    for c, e in manifest["criteria"].items():
        m = e["metrics"]
        print(f"{c:<24} {m['weights']:<44} held-out AnnoMI pairs: "
              f"{'-' if m.get('heldout_accuracy') is None else format(m['heldout_accuracy'], '.3f')}")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
