"""The one URL mask: passwords with ``/``, ``@``, ``:``, ``?``, secret query values, free text."""

from __future__ import annotations

import pytest

from gate.domain.redaction import mask_personal, mask_query_values, mask_url, mask_urls

SECRETS = ["s3cr/et", "p@ss", "a:b:c", "pa?ss#w", "x/y@z:1", "%2Fenc%40"]


@pytest.mark.parametrize("password", SECRETS)
@pytest.mark.parametrize("host", ["10.0.0.5:554", "cam.local", "[fd00::5]:554"])
def test_a_password_is_masked_whatever_it_holds(password: str, host: str) -> None:
    url = f"rtsp://admin:{password}@{host}/Streaming/Channels/101"
    shown = mask_url(url)
    assert shown == f"rtsp://admin:***@{host}/Streaming/Channels/101"
    assert mask_urls(f"cannot open {url} (timeout)") == f"cannot open {shown} (timeout)"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ghp_16C7e42F292c6912E7710c8383@hooks.example/x", "https://***@hooks.example/x"),
        ("postgresql+psycopg://gate@db/gate", "postgresql+psycopg://gate@db/gate"),
        (
            "https://hooks.example/x?a=1&token=abc&Password=z;api_key=k",
            "https://hooks.example/x?a=1&token=***&Password=***;api_key=***",
        ),
        ("http://cam/snap?user=admin&pwd=1234", "http://cam/snap?user=admin&pwd=***"),
        ("http://cam/live#access_token=abc", "http://cam/live#access_token=***"),
        ("postgresql+psycopg://gate:pw@db:5432/gate", "postgresql+psycopg://gate:***@db:5432/gate"),
        # nothing secret: left as it is
        ("rtsp://10.0.0.5:554/h264", "rtsp://10.0.0.5:554/h264"),
        ("rtsp://cam/stream@2", "rtsp://cam/stream@2"),
        ("http://h/a?to=x@y.z", "http://h/a?to=x@y.z"),
        ("/dev/video0", "/dev/video0"),
        ("0", "0"),
    ],
)
def test_userinfo_and_secret_parameters(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_every_url_in_a_text_is_masked() -> None:
    text = "rtsp://a:p/1@cam/x failed, then mqtt://u:s@broker:1883 and 'http://h/?token=t'"
    assert mask_urls(text) == (
        "rtsp://a:***@cam/x failed, then mqtt://u:***@broker:1883 and 'http://h/?token=***'"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("card 11010519491231002X read", "card **************002X read"),
        ("doc=110105194912310021,", "doc=**************0021,"),
        ("call 13812345678 now", "call *******5678 now"),
        ("+86 138-1234-5678", "*******5678"),
        ("Authorization: Bearer eyJhbGciOi.x-y", "Authorization: Bearer ***"),
        ("push to https://gate:hunter22@hub/x failed", "push to https://gate:***@hub/x failed"),
    ],
)
def test_personal_numbers_and_credentials_are_masked(text: str, shown: str) -> None:
    assert mask_personal(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "sha 4f11010519491231002145a",  # inside a hash
        "seq 1110105194912310021",  # 19 digits: not a document number
        "at 1733089721123 ms",  # a 13-digit timestamp is no phone
        "uuid 0b4c6a4e-1381-2345-6789-aaaaaaaaaaaa",
    ],
)
def test_numbers_that_are_not_personal_stay(text: str) -> None:
    assert mask_personal(text) == text


def test_every_query_value_of_a_request_target_is_masked() -> None:
    assert mask_query_values("/terminal/search?q=%E7%8E%8B&all") == "/terminal/search?q=***&all"
    assert mask_query_values("/healthz") == "/healthz"
