"""``gate face enroll`` and ``gate face delete``: enrolment with consent from the command
line, through the same use cases as the office page (``gate.app.faces``).

``enroll`` records the separate consent first when none is in force (``--consent-by``,
``--guardian`` for a person under 14, the notice version of ``[faces] notice_version``),
then enrols each image on its own: one line per image, enrolled or refused with its
reason, and the rest go on. It exits 1 when any image was refused. The engine runs in this
process (the models load once for all the images).

``assess`` records the personal-information impact assessment every enrolment waits for
(``gate.app.impact_assessments``); ``assessments`` lists those on file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gate.app.faces import (
    EnrolFace,
    FaceConsentForm,
    RecordFaceConsent,
    enrol_face,
    face_panel,
    record_face_consent,
    withdraw_face_consent,
)
from gate.app.impact_assessments import (
    RecordAssessment,
    impact_assessments,
    record_impact_assessment,
)
from gate.domain.errors import ActionRefused
from gate.runtime.cli.context import actor, cli_context
from gate.runtime.cli.face_cmd import app
from recognition.faces.enrolment import PhotoEnroller

PersonOption = Annotated[
    str, typer.Option("--person", help="The person's ref or one of their document numbers.")
]


@app.command("enroll")
def enroll_command(
    ctx: typer.Context,
    person: PersonOption,
    images: Annotated[list[Path], typer.Argument(help="Photos of the person (JPEG or PNG).")],
    consent_by: Annotated[
        str,
        typer.Option(
            "--consent-by",
            help="Who consents (the person, or their guardian); recorded if no consent is "
            "in force.",
        ),
    ] = "",
    guardian: Annotated[
        bool, typer.Option("--guardian", help="A guardian consents (a person under 14).")
    ] = False,
) -> None:
    """Record the separate consent if needed, then enrol each photo (one line per image)."""
    services = cli_context(ctx).services()
    refused = 0
    try:
        panel = face_panel(person, actor=actor(), units=services.units)
        ref = panel.person.ref
        if panel.consent is None:
            form = FaceConsentForm(
                consented_by=consent_by,
                guardian=guardian,
                notice_version=services.settings.faces.notice_version,
            )
            given = record_face_consent(
                RecordFaceConsent(ref, form), actor=actor(), units=services.units
            )
            typer.echo(
                f"consent recorded for {ref}: {given.consented_by}"
                f"{' (guardian)' if given.guardian else ''}, notice {given.notice_version}"
            )
        enroller = PhotoEnroller(services.face_enroller.settings.quality, in_process=True)
        for image in images:
            try:
                data = image.read_bytes()
            except OSError as exc:
                refused += 1
                typer.echo(f"{image}: refused: unreadable ({exc.strerror or exc})")
                continue
            try:
                enrolled = enrol_face(
                    EnrolFace(ref, data, source="cli"),
                    actor=actor(),
                    units=services.units,
                    enroller=enroller,
                    gallery=services.face_gallery,
                )
            except ActionRefused as problem:
                refused += 1
                typer.echo(f"{image}: refused: {problem}")
                continue
            quality = ", ".join(f"{key}={value}" for key, value in enrolled.quality.items())
            typer.echo(f"{image}: enrolled as template {enrolled.template_id} ({quality})")
    finally:
        services.close()
    if refused:
        raise typer.Exit(1)


@app.command("delete")
def delete_command(ctx: typer.Context, person: PersonOption) -> None:
    """Withdraw the person's consent: every face template of theirs is deleted at once."""
    services = cli_context(ctx).services()
    try:
        who = actor()
        ref = face_panel(person, actor=who, units=services.units).person.ref
        removed = withdraw_face_consent(
            ref, actor=who, units=services.units, gallery=services.face_gallery
        )
    finally:
        services.close()
    typer.echo(f"consent of {ref} withdrawn; {removed} face template(s) deleted")


@app.command("assess")
def assess_command(
    ctx: typer.Context,
    on: Annotated[str, typer.Option("--on", help="When it was assessed (YYYY-MM-DD).")],
    by: Annotated[str, typer.Option("--by", help="Who assessed.")],
    reference: Annotated[
        str, typer.Option("--reference", help="A summary, or the report's number and place.")
    ],
    scope: Annotated[
        str, typer.Option("--scope", help="Lanes, who, what is stored and for how long.")
    ],
) -> None:
    """Record the impact assessment face enrolment waits for (audited)."""
    services = cli_context(ctx).services()
    try:
        recorded = record_impact_assessment(
            RecordAssessment(on, by, reference, scope), actor=actor(), units=services.units
        )
    finally:
        services.close()
    typer.echo(
        f"impact assessment {recorded.id} recorded ({recorded.assessed_on}, "
        f"{recorded.assessed_by}): faces may be enrolled"
    )


@app.command("assessments")
def assessments_command(ctx: typer.Context) -> None:
    """The impact assessments on file, newest first."""
    services = cli_context(ctx).services()
    try:
        on_file = impact_assessments(actor=actor(), units=services.units)
    finally:
        services.close()
    if not on_file:
        typer.echo("no impact assessment recorded: face enrolment is refused")
    for entry in on_file:
        typer.echo(
            f"{entry.id} {entry.assessed_on} by {entry.assessed_by}: {entry.reference} "
            f"[scope: {entry.scope}] (recorded by {entry.recorded_by})"
        )
