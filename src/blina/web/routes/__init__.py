"""The web pages and their htmx fragments, one module per area. Every rule is a
service's or the domain's: a route reads the form, calls one service, and renders a
view model."""

from fastapi import APIRouter

from blina.web.routes import (
    care_team,
    clinic_audit,
    clinic_settings,
    courses,
    exposure,
    family,
    patients_admin,
    pharmacy,
    signing_in,
    therapy_courses,
    therapy_planner,
    user_accounts,
)
from blina.web.routes._common import WebRoute, error_page

__all__ = ["WebRoute", "error_page", "router"]

router = APIRouter(route_class=WebRoute, include_in_schema=False)
for area in (
    signing_in,
    care_team,
    courses,
    exposure,
    pharmacy,
    family,
    clinic_audit,
    clinic_settings,
    user_accounts,
    patients_admin,
    therapy_planner,
    therapy_courses,
):
    router.include_router(area.router)
router.include_router(user_accounts.reset_router)
