"""The launch-gate table on SQLAlchemy: owners and references, loaded from `lucia.yaml`
or set from Slack, every change in `audit_log`. A role or reference unchanged in the file
(same digest) keeps what was set since."""

from __future__ import annotations

__all__ = ["SqlLaunchGateTable", "contact_from_row", "owner_from_row"]

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.paging.model import OwnerEntry
from bot.paging.ports import Contact
from bot.store.database import connect, from_utc, insert_once, to_utc
from bot.store.tables import audit_log, owners, refs
from bot.vocabulary import Role


class SqlLaunchGateTable:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def owners(self) -> Sequence[OwnerEntry]:
        async with connect(self._engine) as conn:
            rows = (await conn.execute(sa.select(owners))).mappings().all()
        found = {r["role"]: owner_from_row(r) for r in rows}
        return [found.get(role.value) or OwnerEntry(Role(role), None) for role in Role]

    async def load_owners(self, entries: Sequence[OwnerEntry], at: datetime) -> list[str]:
        changed = []
        async with connect(self._engine, begin=True) as conn:
            for entry in entries:
                digest = _hash(_owner_values(entry))
                query = sa.select(owners.c.config_hash).where(owners.c.role == entry.role.value)
                stored = (await conn.execute(query.with_for_update())).scalar()
                if stored == digest:
                    continue  # unchanged in the file: what Slack set since stands
                await _put_owner(conn, entry, "lucia.yaml", at, digest)
                if stored is None and entry.contact is None:
                    continue  # a role the file leaves empty, seen for the first time
                await _audit(conn, at, "lucia.yaml", "owner.load", entry.role.value, entry)
                changed.append(entry.role.value)
        return changed

    async def set_owner(self, entry: OwnerEntry, actor: str, at: datetime) -> OwnerEntry:
        async with connect(self._engine, begin=True) as conn:
            query = sa.select(owners.c.config_hash).where(owners.c.role == entry.role.value)
            digest = (await conn.execute(query.with_for_update())).scalar() or ""
            await _put_owner(conn, entry, actor, at, digest)
            await _audit(conn, at, actor, "owner.set", entry.role.value, entry)
        return OwnerEntry(entry.role, entry.contact, entry.notes, actor, at)

    async def refs(self) -> dict[str, str | None]:
        async with connect(self._engine) as conn:
            rows = (await conn.execute(sa.select(refs.c.key, refs.c.value))).all()
        return {str(k): v for k, v in rows}

    async def load_refs(self, values: Mapping[str, str | None], at: datetime) -> list[str]:
        changed = []
        async with connect(self._engine, begin=True) as conn:
            for key, value in values.items():
                digest = _hash({"value": value})
                query = sa.select(refs.c.config_hash).where(refs.c.key == key).with_for_update()
                stored = (await conn.execute(query)).scalar()
                if stored == digest:
                    continue
                await _put_ref(conn, key, value, "lucia.yaml", at, digest)
                if stored is None and value is None:
                    continue  # a reference the file leaves empty, seen for the first time
                detail = {"value": value}
                await _audit_detail(conn, at, "lucia.yaml", "ref.load", key, detail)
                changed.append(key)
        return changed

    async def set_ref(self, key: str, value: str, actor: str, at: datetime) -> None:
        async with connect(self._engine, begin=True) as conn:
            query = sa.select(refs.c.value, refs.c.config_hash).where(refs.c.key == key)
            row = (await conn.execute(query.with_for_update())).first()
            await _put_ref(conn, key, value, actor, at, row[1] if row else "")
            detail = {"before": row[0] if row else None, "after": value}
            await _audit_detail(conn, at, actor, "ref.set", key, detail)


def _owner_values(entry: OwnerEntry) -> dict[str, Any]:
    c = entry.contact
    return {
        "name": c.name if c else None,
        "slack_user": c.slack_user if c else None,
        "email": c.email if c else None,
        "phone": c.phone if c else None,
        "push_topic": c.push_topic if c else None,
        "notes": entry.notes,
    }


def _hash(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


async def _put_owner(
    conn: AsyncConnection, entry: OwnerEntry, actor: str, at: datetime, digest: str
) -> None:
    values = _owner_values(entry) | {
        "config_hash": digest,
        "updated_at": to_utc(at),
        "updated_by": actor,
    }
    updated = await conn.execute(
        sa.update(owners).where(owners.c.role == entry.role.value).values(**values)
    )
    if not updated.rowcount:
        await conn.execute(insert_once(conn, owners).values(role=entry.role.value, **values))


async def _put_ref(
    conn: AsyncConnection, key: str, value: str | None, actor: str, at: datetime, digest: str
) -> None:
    values = {"value": value, "config_hash": digest, "updated_at": to_utc(at), "updated_by": actor}
    updated = await conn.execute(sa.update(refs).where(refs.c.key == key).values(**values))
    if not updated.rowcount:
        await conn.execute(insert_once(conn, refs).values(key=key, **values))


async def _audit(
    conn: AsyncConnection, at: datetime, actor: str, action: str, subject: str, entry: OwnerEntry
) -> None:
    await _audit_detail(conn, at, actor, action, subject, _owner_values(entry))


async def _audit_detail(
    conn: AsyncConnection,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, Any],
) -> None:
    await conn.execute(
        sa.insert(audit_log).values(
            at=to_utc(at), actor=actor, action=action, subject=subject, detail=dict(detail)
        )
    )


def contact_from_row(row: Mapping[str, Any] | sa.RowMapping) -> Contact:
    """The contact columns owners and pages share."""
    return Contact(
        name=row["name"],
        slack_user=row["slack_user"],
        email=row["email"],
        phone=row["phone"],
        push_topic=row["push_topic"],
    )


def owner_from_row(row: Mapping[str, Any] | sa.RowMapping) -> OwnerEntry:
    contact = contact_from_row(row) if row["name"] else None
    return OwnerEntry(
        Role(row["role"]), contact, row["notes"], row["updated_by"], from_utc(row["updated_at"])
    )
