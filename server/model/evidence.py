"""Which evidence can show a consent grant (docs/consent.md, "Evidence").

The model refuses a grant whose evidence cannot be true: a TCF purpose number that does not exist,
a Consent Mode type Google does not define, or evidence that belongs to another lawful basis or to
another purpose. Sources: IAB Europe TCF v2.2 Policies, Appendix A (purposes 1-11); Google's
consent mode reference (consent types).
"""

from __future__ import annotations

# IAB TCF v2.2 purposes, by number.
TCF_PURPOSES: dict[str, str] = {
    "1": "store and/or access information on a device",
    "2": "use limited data to select advertising",
    "3": "create profiles for personalised advertising",
    "4": "use profiles to select personalised advertising",
    "5": "create profiles to personalise content",
    "6": "use profiles to select personalised content",
    "7": "measure advertising performance",
    "8": "measure content performance",
    "9": "understand audiences through statistics or combinations of data from different sources",
    "10": "develop and improve services",
    "11": "use limited data to select content",
}

# Google Consent Mode v2: the four consent types, then the three privacy (storage) types.
CONSENT_MODE_TYPES: tuple[str, ...] = (
    "ad_storage",
    "analytics_storage",
    "ad_user_data",
    "ad_personalization",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)

# Evidence kinds that can show a grant on each lawful basis. A CMP record or a TCF/Consent Mode
# signal shows a choice the person made; an LIA or a DPIA shows an assessment the business made.
# opt_out (CPRA): the CMP records the notice and the person's opt-out choice; a DPIA-style risk
# assessment (CPRA regulations) documents processing that no choice covers.
KINDS_FOR_BASIS: dict[str, tuple[str, ...]] = {
    "consent": ("cmp_purpose", "tcf_purpose", "consent_mode"),
    "legitimate_interest": ("lia", "dpia"),
    "opt_out": ("cmp_purpose", "dpia"),
    "contract": ("dpia",),
    "legal_obligation": ("dpia",),
    "vital_interests": ("dpia",),
    "public_task": ("dpia",),
}

# The TCF purposes and Consent Mode types that can show each grant purpose; a purpose missing here
# has none (TCF and Consent Mode do not cover email or sales outreach).
TCF_FOR_PURPOSE: dict[str, tuple[str, ...]] = {
    "onsite_personalization": ("5", "6"),
    "in_app_messaging": ("5", "6"),
    "ads_targeting": ("3", "4"),
    "ads_measurement": ("7",),
    "analytics": ("8", "9"),
}
CONSENT_MODE_FOR_PURPOSE: dict[str, tuple[str, ...]] = {
    "onsite_personalization": ("personalization_storage",),
    "in_app_messaging": ("personalization_storage",),
    "ads_targeting": ("ad_storage", "ad_user_data", "ad_personalization"),
    "ads_measurement": ("ad_storage", "ad_user_data"),
    "analytics": ("analytics_storage",),
    "service_messages": ("functionality_storage",),
}


def _either(options: tuple[str, ...]) -> str:
    quoted = [repr(o) for o in options]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def ref_problem(kind: str, ref: str) -> str | None:
    """Why `ref` cannot be evidence of `kind`, or None when it can."""
    if kind == "tcf_purpose" and ref not in TCF_PURPOSES:
        return f"a tcf_purpose ref is a TCF v2.2 purpose number from '1' to '11', not {ref!r}"
    if kind == "consent_mode" and ref not in CONSENT_MODE_TYPES:
        types = _either(CONSENT_MODE_TYPES)
        return f"a consent_mode ref is a Google Consent Mode v2 type, one of {types}; not {ref!r}"
    if not ref.strip():
        return f"a {kind} ref names the record or document; it cannot be blank"
    return None


def evidence_problem(purpose: str, basis: str, kind: str, ref: str) -> str | None:
    """Why evidence (kind, ref) cannot show a grant of `purpose` on `basis`, or None when it can."""
    kinds = KINDS_FOR_BASIS.get(basis, ())
    if kind not in kinds:
        return f"{kind} evidence cannot show a grant on {basis}; use {_either(kinds)} evidence"
    fits = {"tcf_purpose": TCF_FOR_PURPOSE, "consent_mode": CONSENT_MODE_FOR_PURPOSE}.get(kind)
    if fits is None:
        return None
    allowed = fits.get(purpose, ())
    if not allowed:
        others = _either(tuple(k for k in kinds if k not in ("tcf_purpose", "consent_mode")))
        return (
            f"{kind} evidence cannot show {purpose}: the framework has no such purpose; use {others} evidence"
        )
    if ref not in allowed:
        label = "TCF purpose" if kind == "tcf_purpose" else "Consent Mode type"
        return f"{label} {ref!r} does not cover {purpose}; use {_either(allowed)}"
    return None
