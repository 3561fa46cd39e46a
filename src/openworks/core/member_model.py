"""Nouns of workspace membership: users as the domain sees them, and members with roles.

A member is a user with one or more role rows in a workspace; a user with no role row is
not a member (there is no role-less membership)::

    UserInfo (account user)  ──CreateProjectMember──▶  Member (user + roles in a workspace)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Member", "UserInfo"]


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    account_id: str
    name: str
    disabled: bool = False

    @property
    def is_root(self) -> bool:
        return self.id == self.account_id


@dataclass(slots=True)
class Member:
    user: UserInfo
    roles: list[str] = field(default_factory=list)
