"""A district feed's answer from pages of JSON lines: NDJSON, CSV or JSON (edge and hub)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson
from fastapi.responses import Response, StreamingResponse

from gate.app.district_feed import csv_row

NDJSON = "application/x-ndjson"


def lines_response(
    accept: str,
    answer: Any,
    *,
    csv_columns: tuple[str, ...],
    json_body: bytes = b'{"items":[%s],"next_cursor":%s}',
) -> Response:
    """A feed's answer from JSON lines (pages with ``lines`` and ``next_cursor``).

    With NDJSON ``answer`` is the pages, streamed as they are read; else it is the one
    page that CSV and JSON answer, the cursor in ``X-Next-Cursor`` (and in the JSON body,
    ``json_body``'s second ``%s``).
    """
    if NDJSON in accept:

        def chunks() -> Iterator[bytes]:
            for page in answer:
                if page.lines:
                    page.lines.append(b"")  # the last line's newline
                    yield b"\n".join(page.lines)

        return StreamingResponse(chunks(), media_type=NDJSON, headers={"Cache-Control": "no-store"})
    first = answer
    headers = {"X-Next-Cursor": first.next_cursor, "Cache-Control": "no-store"}
    if "text/csv" in accept:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(csv_columns)
        writer.writerows(csv_row(orjson.loads(line), csv_columns) for line in first.lines)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    body = json_body % (b",".join(first.lines), orjson.dumps(first.next_cursor))
    return Response(body, media_type="application/json", headers=headers)
