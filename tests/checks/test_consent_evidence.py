"""Which evidence a consent grant accepts: the ref format per kind, the kind per lawful basis, and the
TCF purpose or Consent Mode type per grant purpose."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from personalization_engine.model.evidence import CONSENT_MODE_TYPES, TCF_PURPOSES
from personalization_engine.model.stages import ConsentGrant


def grant(purpose: str, basis: str, kind: str, ref: str) -> ConsentGrant:
    evidence = {"kind": kind, "ref": ref}
    return ConsentGrant.model_validate({"purpose": purpose, "lawful_basis": basis, "evidence": evidence})


def refusal(purpose: str, basis: str, kind: str, ref: str) -> str:
    with pytest.raises(ValidationError) as caught:
        grant(purpose, basis, kind, ref)
    return str(caught.value)


def test_tcf_v2_2_has_eleven_purposes_and_consent_mode_v2_seven_types():
    assert list(TCF_PURPOSES) == [str(n) for n in range(1, 12)]
    assert set(CONSENT_MODE_TYPES) == {
        "ad_storage",
        "analytics_storage",
        "ad_user_data",
        "ad_personalization",
        "functionality_storage",
        "personalization_storage",
        "security_storage",
    }


@pytest.mark.parametrize(
    ("purpose", "basis", "kind", "ref"),
    [
        ("onsite_personalization", "consent", "tcf_purpose", "5"),
        ("onsite_personalization", "consent", "tcf_purpose", "6"),
        ("ads_targeting", "consent", "tcf_purpose", "3"),
        ("ads_targeting", "consent", "consent_mode", "ad_personalization"),
        ("ads_measurement", "consent", "tcf_purpose", "7"),
        ("analytics", "consent", "tcf_purpose", "9"),
        ("analytics", "consent", "consent_mode", "analytics_storage"),
        ("email_marketing", "consent", "cmp_purpose", "C0004"),
        ("sales_outreach", "legitimate_interest", "lia", "LIA-2026-03"),
        ("in_app_messaging", "contract", "dpia", "DPIA-12"),
        ("ads_targeting", "opt_out", "cmp_purpose", "do-not-sell"),
    ],
)
def test_evidence_that_fits_its_basis_and_purpose_is_accepted(purpose, basis, kind, ref):
    assert grant(purpose, basis, kind, ref).evidence.ref == ref


@pytest.mark.parametrize(
    ("purpose", "basis", "kind", "ref", "says"),
    [
        ("analytics", "consent", "tcf_purpose", "0", "purpose number from '1' to '11', not '0'"),
        ("analytics", "consent", "tcf_purpose", "purpose 8", "not 'purpose 8'"),
        ("analytics", "consent", "consent_mode", "analytics", "one of 'ad_storage', 'analytics_storage'"),
        ("analytics", "consent", "cmp_purpose", "  ", "a cmp_purpose ref names the record"),
        (
            "analytics",
            "consent",
            "tcf_purpose",
            "5",
            "TCF purpose '5' does not cover analytics; use '8' or '9'",
        ),
        ("sales_outreach", "consent", "tcf_purpose", "1", "tcf_purpose evidence cannot show sales_outreach"),
        ("ads_targeting", "opt_out", "consent_mode", "ad_user_data", "use 'cmp_purpose' or 'dpia' evidence"),
        (
            "in_app_messaging",
            "contract",
            "lia",
            "LIA-1",
            "lia evidence cannot show a grant on contract; use 'dpia'",
        ),
    ],
)
def test_evidence_that_cannot_show_the_grant_is_refused_saying_what_fits(purpose, basis, kind, ref, says):
    assert says in refusal(purpose, basis, kind, ref)
