"""Device details (health text, last seen) reach staff and scoped keys only, never a URL secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from gate.app.lanes import DeviceWatch
from gate.domain.device_ports import DeviceHealth, DeviceState
from gate.domain.roles import Role
from tests.api.test_roles import app_and_refs, sign_in

__all__ = ["app_and_refs"]  # the fixture, used by name below

SOURCE = "rtsp://admin:s3cr/et@10.0.0.5:554/h264"


class FailingCamera:
    """A camera whose driver quotes its URL, password and all, in its health."""

    name = "in-camera"

    def health(self) -> DeviceHealth:
        return DeviceHealth(
            DeviceState.OFFLINE, f"cannot open {SOURCE}", datetime.now(UTC) - timedelta(seconds=5)
        )


def _with_camera(app: object) -> None:
    station = app.state.station  # type: ignore[attr-defined]
    station.watch = DeviceWatch(
        {("in", "camera"): FailingCamera()}, silence_after=timedelta(seconds=30), on_alarm=print
    )


def test_anonymous_callers_get_no_device_details(
    app_and_refs: tuple[object, dict[str, str]],
) -> None:
    app, _refs = app_and_refs
    _with_camera(app)
    with TestClient(app) as client:  # type: ignore[arg-type]
        for path in ("/api/v1/devices", "/healthz", "/terminal/state", "/login", "/visit/"):
            response = client.get(path, headers={"accept": "application/json"})
            assert "last_seen" not in response.text, path
            assert "10.0.0.5" not in response.text, path
        assert client.get("/api/v1/devices").status_code == 401


def test_staff_see_device_details_with_the_password_masked(
    app_and_refs: tuple[object, dict[str, str]],
) -> None:
    app, _refs = app_and_refs
    _with_camera(app)
    with TestClient(app) as client:  # type: ignore[arg-type]
        sign_in(client, Role.GUARD)
        (device,) = client.get("/api/v1/devices").json()
        assert device["detail"] == "cannot open rtsp://admin:***@10.0.0.5:554/h264"
        assert device["last_seen"] is not None
        chips = client.get("/terminal/state").json()["header"]["devices"]
        assert [chip["detail"] for chip in chips] == [device["detail"]]
        for response in (client.get("/api/v1/devices"), client.get("/terminal/state")):
            assert "s3cr" not in response.text
            assert "et@" not in response.text
