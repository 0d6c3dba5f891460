"""The shipped fidelity files against the real AnnoMI CSV (../shared/data/annomi; skipped when absent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.fidelity import DATA_DIR, load_annomi, load_reference

ANNOMI = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"
pytestmark = pytest.mark.skipif(not ANNOMI.is_file(), reason=f"AnnoMI not found at {ANNOMI}")


def test_no_utterance_is_shipped() -> None:
    data = load_annomi(ANNOMI)
    shipped = " ".join(p.read_text(encoding="utf-8").lower() for p in DATA_DIR.iterdir() if p.is_file())
    long = {t.strip().lower() for t in data.text if len(t.split()) >= 4}
    assert len(long) > 3000
    assert not [t for t in long if t in shipped]


def test_reference_statistics_match_a_second_computation() -> None:
    import pandas as pd

    df = pd.read_csv(ANNOMI)
    assert len(df) == 8443 and df.transcript_id.nunique() == 106
    ref = load_reference()
    # second implementation with pandas string methods (the shipped one counts with numpy over _text.words)
    client = df[df.interlocutor == "client"].utterance_text.fillna("").str.lower().str.replace("\u2019", "'")
    n = client.map(lambda t: len(re.findall(r"[a-z']+", t)))
    five = client[n >= 5]
    assert ref["client"]["turns"] == len(client) == 4193
    assert ref["client_5plus_words"]["turns"] == len(five)
    assert ref["client_5plus_words"]["words_mean"] == pytest.approx(n[n >= 5].mean())
    assert ref["client_5plus_words"]["question_rate"] == pytest.approx(five.str.contains("?", regex=False).mean())
    labelled = df[(df.interlocutor == "client")].client_talk_type.value_counts(normalize=True)
    for k, v in ref["client_talk_types_labelled"].items():
        assert v == pytest.approx(labelled[k])


@pytest.mark.slow
def test_held_out_role_accuracy_reproduces() -> None:
    """Refit the role recipe on the 79 training sessions and score the 27 held-out ones (~2-4 min on 2 cores):
    the figure in metrics.json and the data card comes back exactly."""
    from harness.fidelity._annomi import _Precomputed, _split
    from harness.fidelity._classifier import fit_classifier
    from harness.reward_heads import get_encoder

    data = load_annomi(ANNOMI)
    y = np.array(data.role)
    tr, te = _split(len(y), data.session)
    assert not set(data.session[tr]) & set(data.session[te])  # no session on both sides
    enc = get_encoder()
    emb = enc.embed([""] * len(data.text), data.text).astype(np.float64)
    clf = fit_classifier("role", [data.text[i] for i in tr], y[tr], emb[tr])
    test = [data.text[i] for i in te]
    pred = np.array(clf.predict(test, _Precomputed(emb[te], test)))
    metrics = json.loads((DATA_DIR / "metrics.json").read_text())
    assert float(np.mean(pred == y[te])) == pytest.approx(metrics["role"]["accuracy"], abs=1e-12)
