"""``gate face identify`` and ``gate face eval``: the engine against the registry's gallery,
and its accuracy on labelled photos (``docs/faces.md``, "Accuracy")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from gate.domain.errors import FaceImageRejected
from gate.domain.faces import FaceBand, FaceThresholds
from gate.runtime.cli.context import cli_context
from gate.runtime.cli.face_cmd import app
from recognition.faces.engine import FaceEngine
from recognition.faces.evaluation import EvalReport, evaluate_sources, read_faces


@app.command("identify")
def identify(
    ctx: typer.Context,
    images: Annotated[
        list[Path], typer.Argument(help="Image files (JPEG, PNG, ...).", metavar="IMAGE")
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='One JSON line per image: {"image", "faces": [{"box", "band", "person", '
            '"distance"}]} or {"image", "error"}.',
        ),
    ] = False,
) -> None:
    """Identify every face in each IMAGE against the enrolled residents.

    Exit 1 if any image could not be read or shows no face; the others are still identified.
    """
    services = cli_context(ctx).services()
    try:
        gallery = services.face_gallery
        gallery.load()
        engine = FaceEngine()  # the models load once, for every image
        failed = False
        for path in images:
            try:
                faces = read_faces(engine, path)
            except FaceImageRejected as exc:
                failed = True
                _say(as_json, {"image": str(path), "error": exc.reason}, f"{path}: {exc}")
                continue
            if not faces:
                failed = True
                line = {"image": str(path), "faces": [], "error": "no_face"}
                _say(as_json, line, f"{path}: no face found")
                continue
            found = []
            for face in faces:
                verdict = gallery.identify(face.template)
                found.append(
                    {
                        "box": list(face.box),
                        "band": verdict.band.value,
                        "person": verdict.person_ref,
                        "distance": None
                        if verdict.distance is None
                        else round(verdict.distance, 4),
                    }
                )
            _say(as_json, {"image": str(path), "faces": found}, _face_lines(path, found))
    finally:
        services.close()
    if failed:
        raise typer.Exit(1)


def _say(as_json: bool, line: dict[str, Any], text: str) -> None:
    if as_json:
        typer.echo(json.dumps(line, ensure_ascii=False))
    elif "error" in line:
        typer.secho(text, err=True, fg=typer.colors.RED)
    else:
        typer.echo(text)


def _face_lines(path: Path, faces: list[dict[str, Any]]) -> str:
    lines = []
    for face in faces:
        who = face["person"] if face["band"] != FaceBand.UNKNOWN else "-"
        lines.append(f"{path}: {face['band']} {who} {face['distance']} box={tuple(face['box'])}")
    return "\n".join(lines)


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Labelled photos: a folder (identity = subfolder, or file name without its "
            "trailing number) or a Yes/No pairs CSV beside its photos; several are pooled.",
            metavar="DIR",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
    strict: Annotated[float | None, typer.Option(help="Default: [faces] strict.")] = None,
    loose: Annotated[float | None, typer.Option(help="Default: [faces] loose.")] = None,
    margin: Annotated[float | None, typer.Option(help="Default: [faces] margin.")] = None,
    strangers: Annotated[
        float, typer.Option(help="Fraction of identities left out of the gallery.")
    ] = 1 / 3,
    offset: Annotated[
        int, typer.Option(help="Which of them (0, 1, 2 with 1/3: every identity once).")
    ] = 0,
    outcomes: Annotated[
        bool, typer.Option("--outcomes", help="Each probe's band and distance too (JSON).")
    ] = False,
) -> None:
    """Measure accuracy on labelled photos: TAR, FAR, strangers accepted, rank-1.

    One photo per identity is enrolled, every third identity is left out as a stranger, the
    rest are identified at the thresholds (docs/faces.md, "Accuracy").
    """
    faces = cli_context(ctx).settings.faces
    try:
        thresholds = FaceThresholds(
            faces.strict if strict is None else strict,
            faces.loose if loose is None else loose,
            faces.margin if margin is None else margin,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not 0 <= strangers < 1:
        raise typer.BadParameter("--strangers is at least 0 and below 1")
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}")
    report = evaluate_sources(FaceEngine(), sources, thresholds, strangers=strangers, offset=offset)
    if as_json:
        typer.echo(json.dumps(report.as_dict(outcomes=outcomes), ensure_ascii=False))
    else:
        typer.echo(_summary(report))


def _summary(report: EvalReport) -> str:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    t = report.thresholds
    lines = [
        f"thresholds: strict {t['strict']}, loose {t['loose']}, margin {t['margin']}",
        f"images {report.images}, identities {report.identities} "
        f"({report.enrolled} enrolled, {report.strangers} strangers)",
        f"genuine probes {report.genuine_probes}: TAR {pct(report.tar)}, FAR {pct(report.far)}, "
        f"uncertain {pct(report.genuine_uncertain)}, unknown {pct(report.genuine_unknown)}, "
        f"rank-1 {pct(report.rank1)}",
        f"stranger probes {report.stranger_probes}: accepted as a resident "
        f"{report.stranger_accepts} ({pct(report.stranger_accept_rate)}), "
        f"uncertain {pct(report.stranger_uncertain)}",
    ]
    for name, dist, pairs in (
        ("same person", report.same_person, report.same_pairs),
        ("different persons", report.different_persons, report.different_pairs),
    ):
        if dist is not None:
            points = ", ".join(f"{k} {v:.3f}" for k, v in dist.items())
            lines.append(f"distances, {name} ({pairs} pairs): {points}")
    lines.extend(f"failed: {image}: {reason}" for image, reason in report.failed.items())
    return "\n".join(lines)
