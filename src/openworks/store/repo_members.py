"""Repository methods for workspace members and the users they refer to.

Mixed into :class:`openworks.store.repo.SqlTx`; every method uses ``self.conn``. A member is
one ``members`` row per (workspace, user, role); these methods group the rows by user.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, distinct, func, select

from openworks.core.member_model import Member, UserInfo
from openworks.core.ports import Page

from .schema import members, users

__all__ = ["MembersRepo"]


def _user(row: Row[Any]) -> UserInfo:
    m = row._mapping
    return UserInfo(m["id"], m["account_id"], m["name"], bool(m["disabled"]))


class MembersRepo:
    conn: Connection

    def user(self, user_id: str) -> UserInfo | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def list_members(self, project_id: int, page: Page) -> tuple[list[Member], int]:
        total = self.conn.execute(
            select(func.count(distinct(members.c.user_id))).where(
                members.c.project_id == project_id
            )
        ).scalar_one()
        ids = (
            select(members.c.user_id)
            .where(members.c.project_id == project_id)
            .group_by(members.c.user_id)
            .order_by(members.c.user_id)
            .offset(page.offset)
            .limit(page.size)
        )
        stmt = (
            select(users, members.c.role)
            .join(members, members.c.user_id == users.c.id)
            .where(members.c.project_id == project_id, users.c.id.in_(ids.scalar_subquery()))
            .order_by(users.c.id, members.c.role)
        )
        found: dict[str, Member] = {}
        for row in self.conn.execute(stmt):
            member = found.get(row.id)
            if member is None:
                member = found[row.id] = Member(_user(row))
            member.roles.append(row.role)
        return list(found.values()), int(total)

    def remove_member(self, project_id: int, user_id: str, role: str | None = None) -> None:
        """Remove one role of a member, or (``role=None``) the whole membership."""
        stmt = delete(members).where(
            members.c.project_id == project_id, members.c.user_id == user_id
        )
        if role is not None:
            stmt = stmt.where(members.c.role == role)
        self.conn.execute(stmt)
