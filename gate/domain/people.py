"""Who lives in the compound: the registry's vocabulary as plain enums and values.

These are the domain names; the database stores their ``value`` strings and the screens
translate them. Chinese labels used by property-office spreadsheets live in ``LABELS_ZH``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)

# A body temperature at or above this is fever: the fever rule's default threshold
# (``gate.domain.policy``) and what the daily round flags for the building head to act on.
FEVER_FROM = 37.3

_PHONE = re.compile(r"^\+?\d{7,15}$")


class Sex(StrEnum):
    """Sex as recorded on the document (GB/T 2261.1 codes 0, 1, 2, 9)."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"
    UNSPECIFIED = "unspecified"


class Relation(StrEnum):
    """Relation of a person to the household's owner."""

    OWNER = "owner"
    FAMILY = "family"
    TENANT = "tenant"


class PersonKind(StrEnum):
    """Why a person is in the registry."""

    RESIDENT = "resident"
    TENANT = "tenant"
    STAFF = "staff"


class StaffRole(StrEnum):
    """Duties a person can hold in the compound."""

    BUILDING_HEAD = "building_head"
    UNIT_HEAD = "unit_head"
    GUARD = "guard"
    PROPERTY_OFFICE = "property_office"


class HealthStatus(StrEnum):
    """Public-health status of a person; history lives in status records."""

    NORMAL = "normal"
    HOME_QUARANTINE = "home_quarantine"
    CENTRALIZED_QUARANTINE = "centralized_quarantine"
    HEALTH_MONITORING = "health_monitoring"
    KEY_PERSON = "key_person"


# Under quarantine, at home or in a centre: may not leave (the quarantine rule, presence).
QUARANTINE_STATUSES = frozenset({HealthStatus.HOME_QUARANTINE, HealthStatus.CENTRALIZED_QUARANTINE})


class LegalBasis(StrEnum):
    """Why the compound may record a status (PIPL art. 13)."""

    CONSENT = "consent"
    PUBLIC_HEALTH_EMERGENCY = "public_health_emergency"
    CONTRACT = "contract"


LABELS_ZH: dict[StrEnum, str] = {
    Sex.MALE: "男",
    Sex.FEMALE: "女",
    Sex.UNKNOWN: "未知",
    Sex.UNSPECIFIED: "未说明",
    Relation.OWNER: "户主",
    Relation.FAMILY: "家庭成员",
    Relation.TENANT: "租户",
    PersonKind.RESIDENT: "居民",
    PersonKind.TENANT: "租户",
    PersonKind.STAFF: "工作人员",
    StaffRole.BUILDING_HEAD: "楼栋长",
    StaffRole.UNIT_HEAD: "单元长",
    StaffRole.GUARD: "门卫",
    StaffRole.PROPERTY_OFFICE: "物业",
    HealthStatus.NORMAL: "正常",
    HealthStatus.HOME_QUARANTINE: "居家隔离",
    HealthStatus.CENTRALIZED_QUARANTINE: "集中隔离",
    HealthStatus.HEALTH_MONITORING: "健康监测",
    HealthStatus.KEY_PERSON: "重点人员",
    LegalBasis.CONSENT: "本人同意",
    LegalBasis.PUBLIC_HEALTH_EMERGENCY: "突发公共卫生事件",
    LegalBasis.CONTRACT: "合同约定",
}


def label_zh(value: StrEnum) -> str:
    """Chinese label of an enum value, as written in spreadsheets."""
    return LABELS_ZH[value]


def parse_label(enum: type[E], text: str) -> E:
    """Read an enum from its Chinese label or its English value; raise ValueError otherwise."""
    cleaned = text.strip()
    for member in enum:
        if cleaned in (member.value, LABELS_ZH.get(member)):
            return member
    raise ValueError(cleaned)


def mask_name(name: str) -> str:
    """A name as the guard screen shows it: 张*明, 李*, J*** S****."""
    name = name.strip()
    if " " in name:
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split())
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def normalize_phone(text: str) -> str:
    """Digits (and a leading +) of a phone number; ``ValueError`` if it cannot be one."""
    value = re.sub(r"[\s\-()]", "", text)
    if not _PHONE.match(value):
        raise ValueError("a phone number is 7 to 15 digits, optionally starting with +")
    return value
