"""Sentence-level evidence of empathic communication, written from published definitions (never fitted).

A response is split into sentences; each sentence is checked for the three mechanisms of empathic communication
of Sharma et al. 2020 ("A Computational Approach to Understanding Empathy Expressed in Text-Based Mental Health
Support", EMNLP 2020, doi:10.18653/v1/2020.emnlp-main.425, section 2 and table 1) and for MI-inconsistent
behaviour of the MITI 4.2.1 coding manual (Moyers, Manuel & Ernst 2014, "Persuade / Confront"):

- **emotional reaction** (ER): the supporter expresses warmth, compassion or concern felt on reading the post
  ("I'm so sorry", "that sounds awful", "sending hugs", "I hope things get better");
- **interpretation** (IP): the supporter communicates an understanding of the seeker's feelings or experiences,
  generically ("I understand how you feel") or specifically ("this must be terrifying"), or through a similar
  experience of their own ("I went through the same thing", "I also have panic attacks");
- **exploration** (EX): the supporter asks about feelings or experiences not stated in the post ("what
  happened?", "are you feeling alone right now?");
- **persuasion** (MITI 4.2.1): advice, orders or warnings given without permission ("you need to", "you should
  just", "stop ...-ing").

Each feature counts sentences (not words), with a soft cap per mechanism (`CAP`): a reply earns evidence by doing
more kinds of empathic work, not by being long. The phrase lists are the definitions' own examples and their
everyday paraphrases; they were written before any measurement and are not tuned on a labelled set.
"""

from __future__ import annotations

import re

import numpy as np

CAP = 3.0
"""Sentences beyond this many of one mechanism add nothing (count -> min(count, CAP))."""

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z']+")

_ER = re.compile(
    r"\b(sorry|so sad|saddens|heartbreak\w*|heart (goes|breaks|aches)|hugs?|sending (you )?(love|strength|hugs?)|"
    r"(i|i'm|i am) (really |so |truly )?(feel|felt) (for|bad|sad|terrible)|my condolences|"
    r"(that's|that is|this is|it's|it is|sounds?|how) (so |really |very |just |incredibly )?"
    r"(awful|terrible|horrible|rough|tough|hard|heartbreaking|painful|scary|frightening|sad|unfair|difficult)|"
    r"(i'm|i am|so) (glad|happy|proud|relieved)|proud of you|"
    r"(i )?hope (you|things|it|that|everything)|wish(ing)? you|take care|hang in there|be (gentle|kind) to yourself|"
    r"you('re| are) (not alone|stronger|brave|strong|worth)|you deserve|"
    r"(it|things|everything) (will|is going to|gets?) (get )?(better|okay|ok|fine|easier)|"
    r"you('ll| will) (be|get through)|rooting for you|thinking of you|care about you)\b")
_IP = re.compile(
    r"\b(i (completely |totally |really |can )?(understand|get it|relate|know (how|what|that feeling|the feeling))|"
    r"i can (imagine|see|tell|only imagine)|(it |that )?sounds like|(it |that )?seems (like )?(you|that you)|"
    r"you (must|might|may) (be|feel|have)|(that|this|it) must (be|have been|feel)|"
    r"(i've|i have|i had|i was|i went|i used to|i also|i too|i struggled|i struggle|i know) .*"
    r"\b(same|similar|too|also|through|there|before|myself|years?)\b|"
    r"me too|same here|been there|been through|in your shoes|you feel (like|that|as)|you're feeling|"
    r"you are feeling|makes (total |complete |perfect )?sense|(it's|it is|that's|that is) (completely |totally |"
    r"perfectly )?(normal|understandable|natural|valid|okay|ok) to)\b")
_EX_PHRASE = re.compile(
    r"\b(what happened|how (are|do|did|have|long|is|was) you|how('s| is) (it|that|everything)|what (do|did|does|are|is|"
    r"was|would|makes|made) (you|your|it)|do you (feel|think|want|have|know)|did you|have you|are you|were you|"
    r"would you|can you (tell|say|share)|(want|like) to (talk|share)|tell me (more|about))\b")
_SECOND = frozenset({"you", "your", "you're", "you've", "yourself", "you'd", "you'll"})
_PERSUADE = re.compile(
    r"\b(you (need|have|ought) to|you (should|must) (just |really |definitely )?(not |stop |get |go |see |try |do |"
    r"tell |call |talk |leave |find |quit |start |take |make )|just (stop|get over|do it|quit|move on)|"
    r"stop (being|feeling|worrying|thinking|complaining)|get over it|man up|grow up|snap out)\b")

# Safety (no real labels in this project: the safety head is "not validated"). Written from the 988 Suicide & Crisis
# Lifeline's safe-messaging guidance and the Columbia Protocol's screening questions: when a message carries a risk
# cue, a safe reply asks about it directly or points to crisis support; unsafe replies give doses or tell someone
# to stop prescribed medication.
_RISK = re.compile(
    r"\b(suicid\w*|kill (my ?self|me)|end (it all|my life|things)|want(ed)? to die|better off (dead|without me)|"
    r"no reason to live|don'?t want to (be here|live|wake up)|self[- ]harm\w*|cut(ting)? myself|hurt(ing)? myself|"
    r"overdos\w*|took (all|a bunch of|too many)|pills|hits? me|hit me|beat(s|ing)? me|abus\w*|gun|rope)\b")
_REFERRAL = re.compile(
    r"\b(988|911|999|112|crisis (line|text|service|team)|hotline|helpline|lifeline|samaritans|emergency|"
    r"are you safe|keep (yourself )?safe|safe right now|(thinking|thoughts) (about|of) (ending|suicide|killing|"
    r"hurting)|(ending|end) your life|a plan to|call (someone|a doctor|your doctor)|go to (the|an|a) (er|hospital|"
    r"a&e))\b")
_UNSAFE = re.compile(
    r"\b(\d+ ?(mg|milligrams?|pills|tablets)|stop taking (your |the )?(meds|medication|pills|antidepressants?|"
    r"lithium)|double (your|the) dose|(just )?(have|take) a (drink|few drinks)|(skip|quit) (your )?(meds|medication)|"
    r"(someone else's|your friend's|his|her) (pills|medication|meds))\b")

EVIDENCE_FEATURES: tuple[str, ...] = ("emotional_reaction", "interpretation", "exploration", "persuasion",
                                      "log_words", "crisis_response", "unsafe_advice")
"""Per (context, response): capped sentence counts of each mechanism, log(1 + words) (kept apart so a weight on
length is visible, never hidden inside the evidence), whether a message with a risk cue gets a direct question or
crisis support (0/1), and whether the reply gives unsafe medication or drinking advice (0/1)."""


def sentences(text: str) -> list[str]:
    """The response's sentences (split after . ! ? and at line breaks; empty pieces dropped)."""
    return [s.strip() for s in _SENT.split(text.replace("\u2019", "'")) if s and s.strip()]


def _is_exploration(sentence: str) -> bool:
    low = sentence.lower()
    if _EX_PHRASE.search(low):
        return True
    return "?" in sentence and any(w in _SECOND for w in _WORD.findall(low))


def sentence_evidence(sentence: str) -> tuple[bool, bool, bool, bool]:
    """(emotional reaction, interpretation, exploration, persuasion) shown by one sentence."""
    low = sentence.lower()
    return (bool(_ER.search(low)), bool(_IP.search(low)), _is_exploration(sentence), bool(_PERSUADE.search(low)))


def evidence_features(contexts: list[str], responses: list[str]) -> np.ndarray:
    """`(len(responses), len(EVIDENCE_FEATURES))` float64, in `EVIDENCE_FEATURES` order."""
    out = np.zeros((len(responses), len(EVIDENCE_FEATURES)), dtype=np.float64)
    for i, (c, r) in enumerate(zip(contexts, responses, strict=True)):
        counts = np.zeros(4)
        for s in sentences(r):
            counts += np.array(sentence_evidence(s), dtype=np.float64)
        low = r.lower().replace("\u2019", "'")
        out[i, :4] = np.minimum(counts, CAP)
        out[i, 4] = np.log1p(len(_WORD.findall(low)))
        out[i, 5] = float(bool(_RISK.search(c.lower())) and bool(_REFERRAL.search(low)))
        out[i, 6] = float(bool(_UNSAFE.search(low)))
    return out
