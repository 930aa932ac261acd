"""``gate face``: the command group. Its commands live beside it by what they touch:
``face_enrol_cmd`` (enroll, delete: the registry), ``face_eval_cmd`` (identify, eval: the
engine and the gallery); each registers on ``app`` when ``gate.runtime.cli`` imports it."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Faces: enrolment with consent, identification, accuracy.", no_args_is_help=True
)
