"""What the drafter looks for: cue phrases and thresholds per standard question key.

A sentence scores the weights of the cues it matches (a negative weight marks a
distractor, such as a kickoff date for the go-live date); the best sentence above its
question's threshold is the one answered from.
"""

import re

# --- cues ------------------------------------------------------------------------------------

Cue = tuple[re.Pattern[str], float]


def _cues(*pairs: tuple[str, float]) -> tuple[Cue, ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in pairs)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])"
)
_FULL_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december)"
)

# Weighted cue phrases per standard question key; negative weights mark sentences that
# look relevant but speak of something else (a kickoff date is not a go-live date).
CUES: dict[str, tuple[Cue, ...]] = {
    "primary_goal": _cues(
        (r"\bgoals?\b", 3),
        (r"\bobjectives?\b", 3),
        (r"\bpriority\b", 3),
        (r"why (?:they|we) bought", 3),
        (r"\bmain (?:pain|thing|reason|driver|aim)\b", 3),
        (r"\bwants? (?:\w+ )?to\b|\bwant\b", 2),
        (r"\btrying to\b|\bcare about\b|\baim(?:s|ing)? to\b|\bfocus\b", 2),
        (r"\bpain\b|\bstruggl\w*|\bdrowning\b", 2),
        (r"\bdriving the project\b", 2),
        (r"\bsuccess\b|(?<!at-)\brisks?\b(?! team)|\bconcern", -2),
        (r"go[- ]?live|\blive (?:by|on|before)\b|\blaunch", -2),
        (r"integrat|migrat|\bimport|\bSSO\b|security", -2),
    ),
    "primary_use_case": _cues(
        (r"\buse[- ]case\b", 3),
        (r"\b(?:mainly|mostly|primarily|main|focus|priority|goals?|objective)\b", 1),
        (r"\b(?:care about|pain|wants?|need|needs|drowning|track|watch|catch)\b", 1),
        (r"why (?:they|we) bought", 1),
    ),
    "plan": _cues(
        (r"\bplan\b", 3),
        (r"\b(?:bought|signed|going with|went with|chose|approved|happy with|is fine|on)\b", 1),
        (r"\b(?:edition|tier|package)\b", 1),
    ),
    "support_tier": _cues(
        (r"\bsupport\b", 3),
        (r"\b(?:tier|SLA)\b", 1),
    ),
    "number_of_users": _cues(
        (r"\b(?:users?|seats?|licen[cs]es?|people|person|CSMs?|team of|will use|how many)\b", 2),
    ),
    "go_live_date": _cues(
        (r"go[- ]?live|\bgolive\b", 3),
        (r"\blive (?:by|on|before|in|from)\b|\bup and running\b", 3),
        (r"\bbe live\b|\bget (?:\w+ )?live\b", 2),
        (r"\blaunch\w*", 2),
        (r"\bstart(?:ing)?\b", 2),
        (r"\broll(?:ing)?[- ]?out\b", 1.5),
        (r"\btarget\b|\bdeadline\b", 1),
        (r"kick-?off|contract (?:ends|expires|renews)|valid until|\bexpires\b", -4),
        (r"\bQBR\b|fiscal year|renewal season|workshop|\bsigned\b|closed won|\bCW\b", -3),
        (r"\bboard\b|questionnaire", -2),
        (r"\boriginally\b|\bslipped\b|\bpushed (?:back|out)\b|\bpostponed\b|\bno longer\b", -3),
    ),
    "integrations": _cues(
        (r"\bintegr\w*", 3),
        (r"\bconnect(?:ed|ion|s)?\b|\bsync\w*|\btalk to\b", 2),
        (r"\bAPI\b", 1),
    ),
    "data_migration": _cues(
        (r"\bmigrat\w*|\bimport(?:s|ed|ing)?\b", 3),
        (r"\b(?:bring|bringing|brought) (?:\w+ )?(?:over|across)\b", 3),
        (r"start(?:ing)? (?:fresh|clean|from scratch|over)|clean slate|from scratch", 3),
        (r"\bhistor(?:y|ical)\b|\bexport\b", 1),
    ),
    "success_criteria": _cues(
        (r"\bsuccess\b", 3),
        (r"(?-i:\b[A-Z][a-z]+ Success\b)", -3),
        (r"\bKPIs?\b|\bcriteria\b", 3),
        (r"\bmeasured?\b", 2),
    ),
    "executive_sponsor": _cues(
        (r"\bsponsor\w*", 3),
        (r"\bsigns? off\b|\bsign-off\b", 1),
    ),
    "sso_required": _cues(
        (r"\bSSO\b|single sign[- ]on|\bSAML\b", 3),
        (r"\bSCIM\b|identity provider", 1),
    ),
    "security_review": _cues(
        (r"security review", 3),
        (r"(?:security|vendor|infosec) (?:assessment|questionnaire|requirements?)", 3),
        (r"\binfosec\b|pen-?test|\bSOC ?2\b|vendor risk", 2),
    ),
    "competitor_replaced": _cues(
        (r"\breplac(?:ing|es|e)\b|\bmoving (?:off|away from)\b|\bswitch(?:ing)? (?:from|off)\b", 3),
        (r"\bleaving\b|\bmigrating (?:from|off)\b|\bcoming from\b|\bwere using\b", 3),
        (r"\b(?:currently|today)\b", 1.5),
        (r"\b(?:on|using|use|run|running|runs)\b", 1),
    ),
    "risks": _cues(
        (r"(?<!at-)\brisks?\b(?! team)", 3),
        (r"\bconcern(?:s|ed)?\b|\bworr(?:y|ied|ies)\b|\bwary\b|\bblockers?\b", 3),
        (r"\b(?:could|may|might) (?:delay|slip|change)\b", 2),
    ),
}
THRESHOLDS: dict[str, float] = {
    "primary_goal": 2,
    "primary_use_case": 2.5,
    "plan": 2.5,
    "support_tier": 3,
    "number_of_users": 2,
    "go_live_date": 2,
    "integrations": 2,
    "data_migration": 3,
    "success_criteria": 3,
    "executive_sponsor": 3,
    "sso_required": 3,
    "security_review": 3,
    "competitor_replaced": 2.5,
    "risks": 3,
}
# A sentence that mentions one of the choices is likelier to answer a choice question.
_CHOICE_MENTION_WEIGHT = 1.5

# Synonyms of choices, by the choice's lower-cased label; any other choice matches its
# own words. "enterprise" is not the plan in "an enterprise deal" or "enterprise logos".
CHOICE_SYNONYMS: dict[str, str] = {
    "onboarding": r"\bonboard\w*|\bimplementation\b|time[- ]to[- ]value"
    r"|\bget(?:ting)? (?:new )?customers live\b",
    "renewals": r"\brenewals?\b|\bupsell\w*|\bexpansion\b",
    "support escalations": r"\bescalations?\b|\bsupport (?:tickets|requests)\b|\bopen tickets\b",
    "health monitoring": r"\bhealth\b|\bchurn\b|\bat-risk\b",
    "enterprise": r"\benterprise\b(?! (?:deals?|handoff|logos?|customers?|accounts?"
    r"|implementation|template|rollout|segment)\b)",
}
# Words a choice must sit near to count, so "a standard questionnaire" is no support tier.
CHOICE_ANCHORS: dict[str, re.Pattern[str]] = {
    "support_tier": re.compile(r"\bsupport\b|\btier\b|\bSLA\b", re.IGNORECASE),
}
