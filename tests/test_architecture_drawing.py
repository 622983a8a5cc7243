"""scripts/draw-architecture draws every layer of the contract and every import between
layers, from the code (docs/design/architecture.md shows its picture)."""

import importlib.util
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def drawing() -> ModuleType:
    spec = importlib.util.spec_from_file_location("draw", ROOT / "scripts" / "draw_architecture.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_picture_has_a_box_per_layer_member_and_an_arrow_per_pair(
    drawing: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "architecture.svg"

    assert drawing.main(["--out", str(out)]) == 0

    svg = ET.parse(out).getroot()
    boxes = {t.text for t in svg.iter(f"{SVG}text") if t.get("font-weight") == "bold"}
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [layers] = [
        c["layers"]
        for c in contracts["contracts"]
        if c["type"] == "layers" and "containers" not in c
    ]
    members = {part.strip().removeprefix("blina.") for layer in layers for part in layer.split("|")}
    assert boxes == members
    arrows = [p for p in svg.iter(f"{SVG}path") if p.get("marker-end")]
    titles = [next(iter(p)).text or "" for p in arrows]
    assert any(t.startswith("blina.services imports blina.domain") for t in titles)
    assert not any(t.startswith("blina.domain imports") for t in titles)
    assert f"{len(arrows)} arrows" in capsys.readouterr().out


def test_an_upward_import_breaks_the_layers_and_a_forbidden_one_its_contract(
    drawing: ModuleType,
) -> None:
    layers = [["blina.api", "blina.web"], ["blina.services"], ["blina.domain"]]
    forbidden = {("blina.domain", "blina.services")}

    assert not drawing.breaks("blina.api", "blina.services", layers, forbidden)
    assert drawing.breaks("blina.services", "blina.api", layers, forbidden)  # upward
    assert drawing.breaks("blina.api", "blina.web", layers, forbidden)  # siblings
    assert drawing.breaks("blina.domain", "blina.services", layers, set())  # upward
    assert drawing.breaks(
        "blina.domain", "blina.services", [["blina.domain"], ["blina.services"]], forbidden
    )
