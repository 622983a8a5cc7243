"""Who is acting: a signed-in user with a role, in a clinic, maybe tied to one patient."""

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["STAFF_ROLES", "Actor", "Role"]


class Role(StrEnum):
    PATIENT = "patient"
    CAREGIVER = "caregiver"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    PHYSICIAN = "physician"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.NURSE, Role.PHARMACIST, Role.PHYSICIAN, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    clinic_id: int
    role: Role
    patient_id: int | None
    username: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES
