"""The crisis-safety section escapes model text (a judge's reason is untrusted)."""

from __future__ import annotations

from reports._safety import _worst_list


def test_worst_dialogue_reasons_are_escaped() -> None:
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    html = str(_worst_list([{"candidate": "a<b>", "method": "rubric judge", "sample_id": "s",
                             "scenario_id": 'x" onclick="y', "multi_turn": True, "n_items": 1, "turn": 2,
                             "failures": [("crisis_resources", 2, hostile)]}]))
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert 'data-scenario="x&quot; onclick=&quot;y"' in html and "a&lt;b&gt;" in html
