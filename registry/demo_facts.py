"""The facts the demo compound is drawn from: its size, regions, card layouts."""

from __future__ import annotations

from datetime import date

REFERENCE_DATE = date(2020, 2, 1)
RECORDED_BY = "demo"
BUILDINGS, FIVE_UNIT_BUILDINGS = 37, 13  # 13 x 5 + 24 x 4 = 161 units
ROOMS = tuple(f"{floor}{door:02d}" for floor in range(1, 7) for door in (1, 2))  # 6 floors
HOUSEHOLDS, TENANT_HOUSEHOLDS = 1838, 36
QUARANTINE_SINGLES, QUARANTINE_PAIRS, QUARANTINE_DAYS = 220, 24, 14
GUARDS, OFFICE_STAFF = 6, 4
HOUSEHOLD_SIZES, SIZE_WEIGHTS = (1, 2, 3, 4, 5), (17, 36, 31, 12, 4)  # mean 2.5 persons
HOME_REGION = "150102"
# Region code -> (address prefix, issuing authority) of a resident ID card.
REGIONS = {
    "150102": ("内蒙古自治区呼和浩特市新城区", "呼和浩特市公安局新城分局"),
    "150103": ("内蒙古自治区呼和浩特市回民区", "呼和浩特市公安局回民分局"),
    "150104": ("内蒙古自治区呼和浩特市玉泉区", "呼和浩特市公安局玉泉分局"),
    "150105": ("内蒙古自治区呼和浩特市赛罕区", "呼和浩特市公安局赛罕分局"),
    "150121": ("内蒙古自治区呼和浩特市土默特左旗", "土默特左旗公安局"),
    "150203": ("内蒙古自治区包头市昆都仑区", "包头市公安局昆都仑区分局"),
    "150602": ("内蒙古自治区鄂尔多斯市东胜区", "鄂尔多斯市公安局东胜区分局"),
    "152502": ("内蒙古自治区锡林浩特市", "锡林浩特市公安局"),
}
STREETS = ("新华大街", "团结路", "建设路", "民族街", "文化路", "光明路")
ETHNICITIES, ETHNICITY_WEIGHTS = ("汉", "蒙古", "回", "满"), (85, 10, 3, 2)
NATIONS = (("MNG", "496"), ("RUS", "643"), ("USA", "840"), ("KOR", "410"), ("DEU", "276"))
HMT_PERMITS = (("810000", "H"), ("820000", "M"), ("830000", ""))  # region, pass prefix
FOREIGN_2017, FOREIGN_2023, HMT_HOLDERS = 3, 3, 4
CARD_2023_SINCE = date(2023, 12, 1)
CARD_KEYS = (
    "card_type", "name", "name_en", "sex", "ethnicity", "birth_date", "address", "id_number",
    "authority", "valid_from", "valid_to", "pass_number", "issue_count", "nationality",
    "renewal_count", "previous_number", "address_endorsement", "photo_wlt_b64", "expected",
)  # fmt: skip

CardValue = str | int | None
Card = dict[str, CardValue]
