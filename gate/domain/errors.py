"""Errors of the gate service, named for what the caller can do about them.

    GateError
    ├── ConfigError               a setting is missing or wrong; ``key`` names it
    │   └── RuleParamsInvalid     rule parameters the rule cannot use
    ├── CredentialInvalid         a credential cannot be read (bad number, unknown lane)
    ├── PassageError
    │   ├── LogUnavailable        the passage log refused the write; the barrier stays shut
    │   ├── StaleSnapshot         the registry changed since the snapshot; decide again
    │   ├── PassSpent             a one-time pass was spent meanwhile (another lane); decide again
    │   └── OverrideRefused       a guard override that is not allowed (also an ActionRefused)
    ├── DeviceError               a device did not answer or answered wrongly
    │   ├── DriverNotAvailable    the configured driver cannot be loaded
    │   └── DeviceIOError         I/O with the device failed
    │       ├── DeviceTimeout     no answer in time
    │       └── FrameError        bytes that break the protocol
    ├── DocumentInvalid           a document number fails validation; ``reason`` + ``params``
    ├── FaceImageRejected         a face photo that cannot be used; ``reason`` + ``params``
    │   ├── NoSingleFace          a readable photo without exactly one face in it
    │   └── FaceQualityRefused    one face, but too small, blurred or turned for enrolment
    ├── RegistryError
    │   ├── RegistryUnavailable   the database cannot be reached
    │   ├── SchemaNotCurrent      the schema is missing, older or newer than this software
    │   ├── RegistryNotEmpty      a fresh registry was expected (demo seed, restore)
    │   ├── BackupInvalid         a backup cannot be used: wrong passphrase, damaged, other engine
    │   ├── DuplicateDocument     one document given twice where it must be unique
    │   └── NotFound              a named registry object does not exist
    ├── ImportRejected            an import file was refused as a whole; ``problems`` lists why
    │   └── ImportNeedsMapping    its headings were not recognised; ``sheets`` to map them by hand
    ├── ActionRefused             a command that cannot be carried out; ``code`` + ``params``
    └── OutOfScope                the target lies outside the buildings the actor may see

A person never reads these messages: screens translate ``code``/``reason`` and their
parameters, and the CLI prints the message on one line.

Messages never carry a full document number: callers pass the masked form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class GateError(Exception):
    """Root of every error the service raises on purpose."""


class ConfigError(GateError):
    """A configuration value is missing, malformed or unsafe."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class RuleParamsInvalid(ConfigError):
    """Rule parameters that the rule's kind does not read or cannot use."""

    def __init__(self, message: str) -> None:
        super().__init__(message, key="params")


class DocumentInvalid(GateError, ValueError):
    """A document number does not pass validation.

    ``reason`` is a machine-readable code (see ``gate.domain.documents``), ``params`` its details.
    """

    def __init__(self, reason: str, message: str, **params: Any) -> None:
        self.reason = reason
        self.params: Mapping[str, Any] = params
        super().__init__(message)


class FaceImageRejected(GateError, ValueError):
    """A face photo that cannot be used: send another file.

    ``reason``: not_an_image, damaged (truncated or corrupt data), too_large (``bytes``,
    ``limit``), too_many_pixels (``pixels``, ``limit``), alpha_channel (transparent pixels
    have no defined colour).
    """

    def __init__(self, reason: str, message: str, **params: str | int | float) -> None:
        self.reason = reason
        self.params: Mapping[str, str | int | float] = params
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a face worker process and pickled back: keep reason and params.
        return (_rebuild_face_error, (type(self), self.reason, str(self), dict(self.params)))


def _rebuild_face_error(
    cls: type[FaceImageRejected], reason: str, message: str, params: dict[str, str | int | float]
) -> FaceImageRejected:
    return cls(reason, message, **params)


class NoSingleFace(FaceImageRejected):
    """A readable photo with no face or several: take another photo of the one person.

    ``reason``: no_face, or several_faces (``faces``: how many).
    """


class FaceQualityRefused(FaceImageRejected):
    """One face, but not good enough to enrol: take a sharper, nearer, frontal photo.

    ``reason``: face_too_small (``face_px``, ``limit``: pixels between the outer eye
    corners), blurred (``sharpness``, ``limit``: variance of the Laplacian of the face),
    not_frontal (``turn``, ``limit``: the nose's offset from the eyes' midline over the
    eye distance).
    """


class CredentialInvalid(GateError, ValueError):
    """A credential that cannot be used: malformed number, unknown lane, a refused pass.

    ``reason`` is the passage's reason code; ``params`` go into the reason beside the detail.
    """

    def __init__(
        self, reason: str, message: str, **params: str | int | float | bool | None
    ) -> None:
        self.reason = reason
        self.params: Mapping[str, str | int | float | bool | None] = params
        super().__init__(message)


class PassageError(GateError):
    """A passage could not be processed as asked."""


class LogUnavailable(PassageError):
    """The passage log could not be written; nothing was recorded."""


class StaleSnapshot(PassageError):
    """The registry changed after the snapshot the decision was made from."""

    def __init__(self, current_revision: int) -> None:
        self.current_revision = current_revision
        super().__init__(f"registry is at revision {current_revision}; refresh the snapshot")


class PassSpent(PassageError):
    """The one-time pass a passage would spend was spent (or revoked) meanwhile; nothing written."""

    def __init__(self, pass_id: str) -> None:
        self.pass_id = pass_id
        super().__init__(f"one-time pass {pass_id} is no longer unspent")


class ActionRefused(GateError, ValueError):
    """A command that cannot be carried out as given; ``code`` + ``params`` say why.

    The code is what a screen translates (``office.error.<code>``); the message is for
    logs and the CLI.
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params: dict[str, Any] = params
        shown = ", ".join(f"{key}={value}" for key, value in params.items())
        super().__init__(
            f"{code.replace('_', ' ')} ({shown})" if params else code.replace("_", " ")
        )


class OutOfScope(GateError):
    """The household or person lies outside the buildings this actor may see."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(f"{target} is outside the buildings this account may see")


class OverrideRefused(ActionRefused, PassageError):
    """A guard override that the rules of overriding do not allow."""


class DeviceError(GateError):
    """A device did not answer or answered wrongly."""


class DriverNotAvailable(DeviceError):
    """The configured driver is unknown or its library is missing; raised at start-up."""


class DeviceIOError(DeviceError):
    """Talking to the device failed."""

    def __init__(self, message: str, *, device: str | None = None) -> None:
        self.device = device
        super().__init__(f"{device}: {message}" if device else message)


class DeviceTimeout(DeviceIOError, TimeoutError):
    """The device did not answer in time."""


class FrameError(DeviceIOError):
    """Bytes that break the device's protocol (bad preamble, length or checksum)."""


class RegistryError(GateError):
    """Something went wrong in the registry store."""


class RegistryUnavailable(RegistryError):
    """The database does not answer."""


class SchemaNotCurrent(RegistryError):
    """The database schema is not the one this software was built for."""

    def __init__(self, message: str, *, current: str | None, expected: str) -> None:
        self.current = current
        self.expected = expected
        super().__init__(message)


class RegistryNotEmpty(RegistryError):
    """The operation needs an empty registry and this one is not."""


class BackupInvalid(RegistryError):
    """A backup that cannot be read or restored here (wrong passphrase, damaged, other engine)."""


class DuplicateDocument(RegistryError):
    """The same document number was given twice where it must be unique."""


class NotFound(RegistryError, LookupError):
    """A named object (building, unit, person) does not exist."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import row (or the whole file, ``row`` 0) was refused."""

    row: int
    column: str | None
    reason: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


class ImportRejected(GateError):
    """An import file was refused; nothing was written."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0].message if self.problems else "rejected"
        super().__init__(f"import refused, {len(self.problems)} problem(s); first: {first}")


@dataclass(frozen=True)
class OurColumn:
    """A column the import reads: internal name, Chinese heading, whether it must be mapped."""

    name: str
    heading: str
    required: bool


@dataclass(frozen=True)
class SheetHeadings:
    """A sheet of an import file as the mapping step shows it (numbers and phones masked).

    ``columns`` is the guess, our column name -> their column index; ``preview`` the first
    data rows below ``header_row`` (the last heading row), cell by cell as text.
    """

    name: str
    header_row: int
    headings: tuple[str, ...]
    columns: Mapping[str, int]
    complete: bool
    preview: tuple[tuple[str, ...], ...]


class ImportNeedsMapping(ImportRejected):
    """No sheet's headings name every required column once (or several sheets do).

    ``problems`` say so for the CLI; ``sheets`` and ``ours`` let a page ask which of their
    columns is which of ours, and ``chosen`` is the sheet to show first. Nothing was written.
    """

    def __init__(
        self,
        problems: Sequence[ImportProblem],
        *,
        sheets: Sequence[SheetHeadings],
        ours: Sequence[OurColumn],
        chosen: str,
    ) -> None:
        super().__init__(problems)
        self.sheets = tuple(sheets)
        self.ours = tuple(ours)
        self.chosen = chosen

    def __reduce__(self) -> Any:  # crosses the worker's pipe
        return (_needs_mapping, (self.problems, self.sheets, self.ours, self.chosen))


def _needs_mapping(
    problems: Sequence[ImportProblem],
    sheets: Sequence[SheetHeadings],
    ours: Sequence[OurColumn],
    chosen: str,
) -> ImportNeedsMapping:
    return ImportNeedsMapping(problems, sheets=sheets, ours=ours, chosen=chosen)
