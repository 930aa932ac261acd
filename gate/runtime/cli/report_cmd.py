"""``gate report``: the daily report as the office's workbook (audited like the pages' export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.i18n import LANGUAGES
from api.web.report_xlsx import daily_workbook
from gate.app.report_values import DailyReport
from gate.app.reports import export_daily_report
from gate.domain.errors import ActionRefused
from gate.runtime.cli.context import actor, cli_context, operator

app = typer.Typer(help="Reports of the gate's passages.", no_args_is_help=True)


@app.command("daily")
def daily_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Target .xlsx file.")],
    day: Annotated[str, typer.Option("--date", help="The local day (Asia/Shanghai), YYYY-MM-DD.")],
    lang: Annotated[str, typer.Option("--lang", help="Headings: zh (default) or en.")] = "zh",
) -> None:
    """Write the daily report of --date to OUT.xlsx (by hour, by outcome, visitors,
    quarantined persons, guard decisions, occupancy); the export is audited."""
    if out.suffix.lower() != ".xlsx":
        raise ActionRefused("report_file_type", file=out.name)
    if lang not in LANGUAGES:
        raise ActionRefused("report_language", lang=lang, known=", ".join(LANGUAGES))
    context = cli_context(ctx)
    services = context.services()
    caller = actor()

    def write(report: DailyReport) -> DailyReport:
        content = daily_workbook(
            report,
            lang=lang,
            compound=context.settings.compound.name,
            generated_at=caller.at,
            generated_by=operator(),
        )
        try:
            out.write_bytes(content)
        except OSError as problem:
            raise ActionRefused("report_file", file=str(out), why=problem.strerror) from None
        return report

    try:
        report = export_daily_report(
            day, file_format="xlsx", write=write, actor=caller, units=services.units
        )
    finally:
        services.close()
    totals = report.totals
    typer.echo(
        f"{report.day}: {totals.total} passages ({totals.inbound} in, {totals.outbound} out), "
        f"{len(report.overrides)} guard decisions, {len(report.quarantined)} in quarantine "
        f"({sum(q.let_out for q in report.quarantined)} let out), "
        f"{report.occupancy.inside} inside at the end of the day; written to {out}"
    )
