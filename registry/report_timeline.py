"""The occupancy curve of a report window: three queries, whatever the window's length.

The counting is ``gate.app.report_timeline``'s; this module reads what it needs: every
person's last barrier-opening passage before the window, those inside it, and who lived
here during it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gate.app.report_timeline import TimelineTally, occupancy_over
from gate.app.report_values import OccupancyPoint, Timeline
from registry.models import Passage, Person


def occupancy_curve(
    session: Session, *, start: datetime, end: datetime, edges: Sequence[datetime]
) -> tuple[OccupancyPoint, ...]:
    """Inside, outside and unknown at each of ``edges`` (all within ``[start, end]``)."""
    opened = Passage.opens_barrier.is_(True) & Passage.person_ref.is_not(None)
    latest = (
        select(func.max(Passage.seq).label("seq"))
        .where(opened, Passage.at < start)
        .group_by(Passage.person_ref)
        .subquery()
    )
    before = {
        ref: (seq, direction)
        for ref, seq, direction in session.execute(
            select(Passage.person_ref, Passage.seq, Passage.direction).join(
                latest, Passage.seq == latest.c.seq
            )
        )
        if ref is not None
    }
    passages = session.execute(
        select(Passage.at, Passage.seq, Passage.person_ref, Passage.direction).where(
            opened, Passage.at >= start, Passage.at < end
        )
    ).all()
    residents = session.execute(
        select(Person.ref, Person.created_at, Person.moved_out_at).where(
            Person.created_at < end,
            Person.moved_out_at.is_(None) | (Person.moved_out_at >= start),
        )
    ).all()
    return occupancy_over(
        edges,
        residents=[(ref, created, moved) for ref, created, moved in residents],
        before=before,
        passages=[(at, seq, ref, direction) for at, seq, ref, direction in passages if ref],
    )


def timeline(session: Session, tally: TimelineTally) -> Timeline:
    """The tally's buckets and the occupancy at their edges."""
    edges = tally.edges
    return Timeline(
        buckets=tally.buckets(),
        occupancy=occupancy_curve(session, start=edges[0], end=edges[-1], edges=edges),
    )
