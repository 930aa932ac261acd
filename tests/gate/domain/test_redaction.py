"""The one URL mask: passwords with ``/``, ``@``, ``:``, ``?``, secret query values, free text."""

from __future__ import annotations

import pytest

from gate.domain.redaction import mask_url, mask_urls

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
