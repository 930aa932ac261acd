"""Import and export from the office pages: the upload's report, masked and revealed files."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.web.deps import LANG_COOKIE
from tests.api.test_office_support import (
    NEWCOMER,
    RESIDENT_A,
    Compound,
    app_client,
    audits,
    csrf,
    html,
    person_by_number,
    person_count,
    sign_in,
)
from tests.registry import zip_bombs
from tests.registry.builders import person_row, write_csv, write_xlsx


def upload(client: TestClient, path: Path, token: str) -> Any:
    with path.open("rb") as handle:
        return client.post(
            "/office/import",
            data={"csrf_token": token},
            files={"file": (path.name, handle, "application/octet-stream")},
        )


def test_an_xlsx_upload_is_imported_and_reported(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    sheet = write_xlsx(
        tmp_path / "二号楼.xlsx",
        [
            person_row(楼栋="2号楼", 单元="1", 房号="101", 姓名="孙悟空", 证件号码=NEWCOMER),
            person_row(姓名="王小明", 证件号码=RESIDENT_A, 手机号="13800001234"),
        ],
    )
    response = upload(office, sheet, csrf(office, "/office/import"))
    assert response.status_code == 200
    assert "共 2 行，新增 1 人，更新 1 人" in response.text  # 王小明 gains his birth date
    added = person_by_number(compound.services, NEWCOMER)
    assert added is not None
    assert added.name == "孙悟空"
    (imported,) = audits(compound.services, "registry.import")
    assert imported.actor == "office"
    assert imported.target == "二号楼.xlsx"


def test_a_refused_upload_shows_every_problem_by_row_and_writes_nothing(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    sheet = write_csv(
        tmp_path / "bad.csv",
        [
            person_row(证件号码=NEWCOMER),
            person_row(楼栋="9号楼", 证件号码=NEWCOMER[:-1] + "0"),
            person_row(姓名="", 证件号码="12345"),
        ],
    )
    count = person_count(compound.services)
    response = upload(office, sheet, csrf(office))
    assert response.status_code == 422
    text = response.text
    assert "文件未导入" in text
    assert '<td class="num">3</td>' in text
    assert '<td class="num">4</td>' in text
    assert "楼栋「9号楼」不存在" in text
    assert "姓名不能为空" in text
    assert person_count(compound.services) == count
    assert audits(compound.services, "registry.import") == []


def test_an_upload_of_another_format_is_refused(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    other = tmp_path / "residents.txt"
    other.write_text("hello", encoding="utf-8")
    response = upload(office, other, csrf(office))
    assert response.status_code == 422
    assert "只支持 .xlsx 和 .csv 文件" in response.text


def test_an_upload_without_its_csrf_token_is_refused(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "ok.csv", [person_row(证件号码=NEWCOMER)])
    response = upload(office, sheet, "")
    assert response.status_code == 403
    assert person_by_number(compound.services, NEWCOMER) is None
    assert audits(compound.services, "access.denied")[0].target == "csrf"


def test_the_export_is_masked_and_audited(office: TestClient, compound: Compound) -> None:
    response = office.get("/office/export?format=xlsx&reveal=0")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("楼栋", "单元", "房号")
    numbers = [row[6] for row in rows[1:]]
    assert len(numbers) == 4
    assert all(str(value).startswith("**************") for value in numbers)
    (exported,) = audits(compound.services, "registry.export")
    assert exported.detail == {"persons": 4, "revealed": False}


def test_a_revealing_export_is_for_the_office_and_audited_as_such(
    office: TestClient, compound: Compound
) -> None:
    response = office.get("/office/export?format=csv&reveal=1")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert RESIDENT_A in [row[6] for row in rows]
    (revealed,) = audits(compound.services, "registry.export.reveal")
    assert revealed.actor == "office"
    assert revealed.detail["revealed"] is True


def test_a_building_head_can_neither_import_nor_export(compound: Compound) -> None:
    with app_client(compound.services) as client:
        sign_in(client, "head")
        assert html(client, "/office/import").status_code == 403
        assert client.get("/office/export?format=csv&reveal=1").status_code == 403
    assert audits(compound.services, "registry.export.reveal") == []
    assert len(audits(compound.services, "access.denied")) == 2


def test_an_unknown_export_format_is_refused(office: TestClient, compound: Compound) -> None:
    response = office.get("/office/export?format=pdf")
    assert response.status_code == 422
    assert "导出格式只能是 xlsx 或 csv" in response.text
    assert audits(compound.services, "registry.export") == []


def test_the_import_template_can_be_downloaded(office: TestClient) -> None:
    response = office.get("/office/import/template")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.cell(row=2, column=1).value == "楼栋"


def test_a_zip_bomb_upload_is_refused_with_its_reason_in_the_pages_language(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    bomb = zip_bombs.huge_cell(tmp_path / "住户.xlsx")  # 400 MiB of A in one cell, 410 KB
    count = person_count(compound.services)
    response = upload(office, bomb, csrf(office, "/office/import"))
    assert response.status_code == 422
    assert "XLSX 解压后超过 256 MiB 的上限，疑似压缩炸弹，未导入。" in response.text
    office.cookies.set(LANG_COOKIE, "en")
    response = upload(office, bomb, csrf(office, "/office/import"))
    assert response.status_code == 422
    assert "The XLSX inflates past the 256 MiB limit (a zip bomb?)" in response.text
    assert person_count(compound.services) == count
    assert audits(compound.services, "registry.import") == []
