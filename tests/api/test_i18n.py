"""Both languages know every message, and every reason the core can give has words."""

from __future__ import annotations

import re
from pathlib import Path

from api.i18n import MESSAGES, reason_text, t
from gate.domain.passes import PassReason, PassRefusal, refusal_code

ROOT = Path(__file__).resolve().parents[2]


def test_chinese_and_english_have_the_same_keys() -> None:
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])


def test_every_reason_code_of_the_core_has_a_sentence_in_both_languages() -> None:
    sources = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "gate").rglob("*.py"))
    codes = set(re.findall(r'Finding\(\s*Outcome\.\w+,\s*AlertLevel\.\w+,\s*"(\w+)"', sources))
    codes |= set(re.findall(r'Reason\(\s*"(\w+)"', sources))
    codes |= set(re.findall(r'CredentialInvalid\(\s*"(\w+)"', sources))
    # A refused pass: the check's reasons and the registry's, named by enums.
    codes |= {refusal_code(reason) for reason in PassRefusal} | {str(r) for r in PassReason}
    assert {"quarantine_no_exit", "outsider", "household_quota", "log_unavailable"} <= codes
    for code in codes:
        for lang in ("zh", "en"):
            assert f"reason.{code}" in MESSAGES[lang], (lang, code)


def test_every_refusal_code_of_the_use_cases_has_a_sentence_in_both_languages() -> None:
    sources = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "gate").rglob("*.py"))
    codes = set(re.findall(r'(?:ActionRefused|OverrideRefused)\(\s*"(\w+)"', sources))
    fields = set(re.findall(r'ActionRefused\(\s*"\w+",\s*field="(\w+)"', sources))
    assert {"required", "override_handled", "visit_hours", "password_short"} <= codes
    for lang in ("zh", "en"):
        assert {c for c in codes if f"office.error.{c}" not in MESSAGES[lang]} == set(), lang
        assert {f for f in fields if f"office.field.{f}" not in MESSAGES[lang]} == set(), lang


def test_templates_use_only_known_keys() -> None:
    used = set()
    for template in (ROOT / "api" / "templates").rglob("*.html"):
        # t('key'), not a method call ending in t (plan.count('x'), form.get('x')).
        used |= set(re.findall(r"\bt\('([\w.]+)'", template.read_text(encoding="utf-8")))
    missing = {key for key in used if key not in MESSAGES["zh"] and not key.endswith(".")}
    assert not missing


def test_reasons_read_as_sentences_with_their_parameters() -> None:
    text = reason_text(
        "zh",
        "household_quota",
        {"used": 1, "allowed": 1, "period_hours": 48.0, "next_at": "2026-12-01T02:00:00+00:00"},
    )
    assert "12-01 10:00" in text
    assert t("en", "reason.quarantine_no_exit", until="2026-12-12T00:00:00+08:00").endswith(
        "(until 12-11)"
    )
    assert reason_text("en", "passback", {"presence": "outside", "soft": True}).endswith(
        "(flag only)"
    )


def test_a_pass_reason_names_its_kind_in_the_screens_language() -> None:
    params = {"pass_id": "0123456789abcdef", "kind": "invite"}
    assert reason_text("zh", "qr_pass", params) == "通行码 0123456789abcdef（邀请）"
    assert reason_text("en", "pass_replayed", params) == "One-time pass already used"
    assert reason_text("en", "qr_pass", params) == "QR pass 0123456789abcdef (invite)"


def test_a_district_watch_alarm_names_the_status_in_words() -> None:
    params = {"status": "home_quarantine", "reference": "XC-2020-0042"}
    text = reason_text("zh", "district_watch", params)
    assert "居家隔离" in text
    assert "home_quarantine" not in text
