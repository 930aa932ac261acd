"""The office import page with the office's own sheets: read as they are, or mapped by hand."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.web.deps import LANG_COOKIE
from tests.api.test_office_io import upload
from tests.api.test_office_support import (
    Compound,
    audits,
    csrf,
    person_by_number,
    person_count,
    sign_in,
)
from tests.registry import office_sheets as sheets


def staged_token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None, "no mapping step on the page"
    return found.group(1)


def selected(page: str, column: str) -> str | None:
    """The option chosen for our ``column`` in the mapping step, by its value."""
    select = re.search(rf'<select id="col_{column}" name="col_{column}">(.*?)</select>', page, re.S)
    assert select is not None
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else None


def answer(client: TestClient, token: str, action: str, **columns: int | str) -> Any:
    data = {"csrf_token": csrf(client, "/office/import"), "token": token, "action": action}
    data.update({"sheet": "住户信息", "shown_sheet": "住户信息"})
    data.update({f"col_{name}": str(index) for name, index in columns.items()})
    return client.post("/office/import/mapping", data=data)


MAPPED = {"building": 0, "unit": 1, "room": 2, "name": 3, "sex": 4, "doc_number": 5, "phone": 6}


def test_the_new_offices_sheet_is_imported_without_a_mapping_step(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    response = upload(office, sheets.new_office(tmp_path), csrf(office, "/office/import"))
    assert response.status_code == 200
    assert "已导入 新物业住户表.xlsx：共 3 行" in response.text
    assert 'name="token"' not in response.text
    assert person_by_number(compound.services, sheets.ZHANG) is not None


def test_unknown_headings_show_the_mapping_step_and_write_nothing_until_imported(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    before = person_count(compound.services)
    response = upload(office, sheets.unknown_headings(tmp_path), csrf(office, "/office/import"))
    assert response.status_code == 200
    page = response.text
    assert "对应各列" in page
    assert "表头没有全部识别" in page
    # Pre-filled by the guesses: 楼座 (A) is the building, 单元 (B), 性别 (E), 电话 (G).
    assert [selected(page, name) for name in ("building", "unit", "room", "name")] == [
        "0",
        "1",
        None,
        None,
    ]
    assert (selected(page, "sex"), selected(page, "phone")) == ("4", "6")
    assert "C · 户室编号" in page
    assert "138****5678" in page  # the preview masks phones...
    assert sheets.WANG not in page  # ...and document numbers
    token = staged_token(page)
    assert person_count(compound.services) == before

    preview = answer(office, token, "preview", **MAPPED)
    assert preview.status_code == 200
    assert "**************" + sheets.ZHANG[-4:] in preview.text
    assert "<td>张三</td>" in preview.text
    assert person_count(compound.services) == before

    done = answer(office, token, "import", **MAPPED)
    assert done.status_code == 200, done.text
    assert "已导入 自定义表头.xlsx：共 3 行" in done.text
    assert person_by_number(compound.services, sheets.ZHANG) is not None
    (imported,) = audits(compound.services, "registry.import")
    assert imported.detail["mapped"] == {"sheet": "住户信息", **MAPPED}
    again = answer(office, token, "import", **MAPPED)
    assert again.status_code == 422
    assert "上传的文件已过期" in again.text


def test_a_mapping_without_a_required_column_is_refused_and_can_be_corrected(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    response = upload(office, sheets.unknown_headings(tmp_path), csrf(office, "/office/import"))
    token = staged_token(response.text)
    partial = {name: index for name, index in MAPPED.items() if name != "doc_number"}
    refused = answer(office, token, "import", **partial)
    assert refused.status_code == 422
    assert "必填列「证件号码」没有对应的列" in refused.text
    assert staged_token(refused.text) == token  # still waiting, nothing written
    assert person_by_number(compound.services, sheets.ZHANG) is None
    assert answer(office, token, "import", **MAPPED).status_code == 200
    assert person_by_number(compound.services, sheets.ZHANG) is not None


def test_the_mapping_step_speaks_english_and_a_cancel_drops_the_file(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    office.cookies.set(LANG_COOKIE, "en")
    response = upload(office, sheets.unknown_headings(tmp_path), csrf(office, "/office/import"))
    page = response.text
    assert "Match the columns" in page
    assert "Document number" in page
    assert "Import with these columns" in page
    token = staged_token(page)
    cancelled = answer(office, token, "cancel")
    assert "Cancelled; nothing was imported." in cancelled.text
    assert answer(office, token, "import", **MAPPED).status_code == 422
    assert audits(compound.services, "registry.import") == []


def test_another_session_cannot_use_the_staged_upload(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    response = upload(office, sheets.unknown_headings(tmp_path), csrf(office, "/office/import"))
    token = staged_token(response.text)
    other = TestClient(office.app, follow_redirects=False)  # the same app, a second sign-in
    sign_in(other, "office")
    refused = answer(other, token, "import", **MAPPED)
    assert refused.status_code == 422
    assert "上传的文件已过期" in refused.text
    assert person_by_number(compound.services, sheets.ZHANG) is None


def test_two_sheets_with_headings_ask_which_and_another_sheet_brings_its_guesses(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    path = sheets.several_sheets(tmp_path, headings_on_two=True)
    response = upload(office, path, csrf(office, "/office/import"))
    page = response.text
    assert "多个工作表都像住户表（住户、住户2）" in page
    assert '<option value="住户2">住户2</option>' in page
    token = staged_token(page)
    data = {
        "csrf_token": csrf(office, "/office/import"),
        "token": token,
        "action": "preview",
        "sheet": "住户2",
        "shown_sheet": "住户",
    }
    switched = office.post("/office/import/mapping", data=data)
    assert '<option value="住户2" selected>' in switched.text
    assert selected(switched.text, "doc_number") == "5"
    data.update(
        action="import", shown_sheet="住户2", **{f"col_{k}": str(v) for k, v in MAPPED.items()}
    )
    done = office.post("/office/import/mapping", data=data)
    assert "共 1 行" in done.text


def test_an_id_excel_made_a_number_is_named_by_row_in_both_languages(
    office: TestClient, compound: Compound, tmp_path: Path
) -> None:
    sheet = sheets.excel_numbers(tmp_path)
    response = upload(office, sheet, csrf(office, "/office/import"))
    assert response.status_code == 422
    assert '<td class="num">3</td><td>证件号码</td>' in response.text
    assert "证件号码被 Excel 存成了数字，后几位已丢失，无法确定是哪一个人" in response.text
    office.cookies.set(LANG_COOKIE, "en")
    response = upload(office, sheet, csrf(office, "/office/import"))
    assert '<td class="num">4</td><td>证件号码</td>' in response.text
    assert "Excel stored the document number as a number and lost its last digits" in response.text
    assert person_by_number(compound.services, sheets.ZHANG) is None
