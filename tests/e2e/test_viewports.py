"""The main pages at a phone's width (360 px), a tablet's (768 px) and a desktop's
(1280 px): nothing scrolls sideways, every warning is on screen (not clipped by a
scrolling box, not covered), and no console error. Each page and width saves a screenshot
under its tmp_path (the path is printed). Then the check-in form by keyboard alone.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Records, Tab, send_check_in

pytestmark = pytest.mark.e2e

OpenTab = Callable[..., Tab]

WIDTHS = (360, 768, 1280)

# What the templates use to warn: a warning, an error beside a field, a problem, an open
# alert, the triage answer and the emergency note, the worksheet's stamp and warnings, and
# anything announced with role=alert.
WARNINGS = (
    ".warning, .field-error, .problem, .alert, .triage, .emergency-note, .stamp,"
    " [data-warning], [role=alert]"
)


@dataclass(frozen=True)
class Screen:
    name: str
    who: str | None
    path: str  # "{bag}" is the prepared bag's id
    warnings: int = 0  # at least this many warnings on the page


SCREENS = (
    Screen("login", None, "/login"),
    Screen("home", "nurse.kim", "/", warnings=1),  # the check-ins' open alerts
    Screen("patient", "dr.lee", "/patients/1", warnings=1),  # the grading to confirm
    Screen("check-in", "alex.partner", "/patients/1/check-in", warnings=1),
    Screen("check-in-answer", "alex.partner", "/today", warnings=1),
    Screen("check-in-error", "alex.partner", "/patients/1/check-in", warnings=2),
    Screen("today", "alex.partner", "/today"),
    Screen("calendar", "alex.partner", "/patients/1/calendar"),
    Screen("about", "alex.partner", "/about", warnings=1),
    Screen("about-page", "alex.partner", "/about/when-to-call?for=parent", warnings=1),
    Screen("clinic-audit", "dr.lee", "/audit"),
    Screen("worksheet", "pharm.ana", "/bags/{bag}/worksheet", warnings=2),
)

# Each warning is looked at where the page first shows it: scrolled into the window
# (the window only, so that a box that scrolls sideways is not scrolled for it), then
# checked against the window, every ancestor that clips, and what is drawn on top.
_HIDDEN_WARNINGS = """
(selector) => {
  const problems = [];
  const found = [...document.querySelectorAll(selector)];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("")
    + ": " + (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
  for (const el of found) {
    const style = getComputedStyle(el);
    let rect = el.getBoundingClientRect();
    if (rect.width < 1 || rect.height < 1 || style.visibility !== "visible"
        || Number(style.opacity) === 0) {
      problems.push("not shown: " + name(el));
      continue;
    }
    if (rect.left < -0.5 || rect.right > window.innerWidth + 0.5) {
      problems.push("outside the window's width: " + name(el));
    }
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const clip = getComputedStyle(box);
      const outer = box.getBoundingClientRect();
      const sideways = clip.overflowX !== "visible"
        && (rect.left < outer.left - 0.5 || rect.right > outer.right + 0.5);
      const upright = clip.overflowY !== "visible"
        && (rect.top < outer.top - 0.5 || rect.bottom > outer.bottom + 0.5);
      if (sideways || upright) {
        problems.push("clipped by " + name(box) + ": " + name(el));
        break;
      }
    }
    const first = el.getClientRects()[0];
    window.scrollTo(0, window.scrollY + first.top - 20);
    const line = el.getClientRects()[0];
    const x = Math.min(Math.max(line.left + line.width / 2, 0), window.innerWidth - 1);
    const y = Math.min(Math.max(line.top + Math.min(line.height / 2, 10), 0),
                       window.innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    if (!hit || !el.contains(hit)) {
      problems.push("covered by " + (hit ? name(hit) : "nothing") + ": " + name(el));
    }
  }
  window.scrollTo(0, 0);
  return {count: found.length, problems};
}
"""


def _show(tab: Tab, screen: Screen, records: Records) -> None:
    if screen.who is not None:
        tab.log_in(screen.who)
    tab.go(screen.path.format(bag=records.bag_id))
    if screen.name == "check-in-answer":
        send_check_in(tab, "39.0", "seizure")
        expect(tab.page.locator("section.triage")).to_have_attribute("data-level", "emergency")
    elif screen.name == "check-in-error":
        tab.page.locator("#temperature").fill("hot")
        tab.page.locator('button[data-action="send-check-in"]').click()
        expect(tab.page.locator('[data-error-for="temperature"]')).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_page_fits_the_width_and_shows_every_warning(
    open_tab: OpenTab, records: Records, tmp_path: Path, screen: Screen, width: int
) -> None:
    tab = open_tab(width=width, height=800)
    _show(tab, screen, records)
    expect(tab.page.locator("main")).to_be_visible()
    tab.screenshot(tmp_path, f"{screen.name}-{width}")

    wide = tab.page.evaluate("document.scrollingElement.scrollWidth")
    assert wide <= width, f"{screen.name} scrolls sideways at {width} px ({wide} px wide)"
    seen: dict[str, Any] = tab.page.evaluate(_HIDDEN_WARNINGS, WARNINGS)
    assert seen["problems"] == []
    assert seen["count"] >= screen.warnings
    assert tab.errors_besides(422) == []


# --- the check-in form by keyboard alone --------------------------------------------------

_FOCUSED = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    key: el.type === "radio" ? "radio:" + el.name : (el.id || el.getAttribute("data-action")
      || el.tagName.toLowerCase() + ":" + (el.textContent || "").trim()),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    color: style.outlineColor,
  };
}
"""

_FIELDS = """
(form) => [...form.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.type !== "hidden" && !el.closest("details:not([open])"))
  .map((el) => el.type === "radio" ? "radio:" + el.name : (el.id || el.getAttribute("data-action")))
"""


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a computed ``rgb(r, g, b)`` colour."""
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("width", [360, 1280])
def test_check_in_form_by_keyboard_with_visible_focus(
    open_tab: OpenTab, tmp_path: Path, width: int
) -> None:
    tab = open_tab(width=width, height=800)
    tab.log_in("alex.partner")
    tab.go("/patients/1/check-in")
    wanted = tab.page.eval_on_selector("form.check-in", _FIELDS)
    assert "temperature" in wanted
    assert "send-check-in" in wanted

    reached: dict[str, dict[str, Any]] = {}
    for _ in range(2 * len(wanted) + 40):  # the header, the switch and each "not sure?" too
        tab.page.keyboard.press("Tab")
        focused = tab.page.evaluate(_FOCUSED)
        reached.setdefault(focused["key"], focused)
        if focused["key"] == "send-check-in":
            break
    tab.screenshot(tmp_path, f"check-in-keyboard-{width}")

    assert [key for key in wanted if key not in reached] == []
    for key in wanted:
        focus = reached[key]
        assert focus["outline"] != "none", (key, focus)
        assert focus["width"] >= 2, (key, focus)
        assert _contrast(focus["color"], "rgb(255, 255, 255)") >= 3, (key, focus)
    assert tab.errors == []
