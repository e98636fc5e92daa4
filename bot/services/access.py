"""Who may see whom: checked at every staff action, with the role read from the database
in that transaction (the gate reads the staff row fresh for every update).

Officers see their own participants (and those without an officer); backup officers and
coordinators see everyone.
"""

from __future__ import annotations

from bot.conversation.replies import Reply
from bot.i18n import _
from db.enums import Role
from db.models import Participant, Staff


def sees_everyone(staff: Staff) -> bool:
    """Coordinators and backup officers see every participant."""
    return staff.role == Role.COORDINATOR or staff.is_backup


def may_see(staff: Staff, participant: Participant) -> bool:
    """Whether this staff member may read or act on this participant."""
    return staff.active and (sees_everyone(staff) or participant.officer_id in (None, staff.id))


def officer_scope(staff: Staff) -> int | None:
    """The officer whose participants this staff member sees (None: everyone)."""
    return None if sees_everyone(staff) else staff.id


def not_allowed() -> Reply:
    """The same answer for 'no such participant' and 'not yours': nothing leaks."""
    return Reply(_("I cannot find that, or it is not one of your participants."))
