"""The park config schema: the shipped parks validate; bad input gets a message naming the field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from parkgrid.config import load_park, parse_park
from parkgrid.errors import ConfigError

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def haiyan_doc() -> dict:
    return yaml.safe_load((MODELS / "haiyan.yaml").read_text())


def problems_for(doc: dict, edit) -> str:
    """Apply ``edit`` to a copy of ``doc`` and return the config error message."""
    bad = copy.deepcopy(doc)
    edit(bad)
    with pytest.raises(ConfigError) as info:
        parse_park(bad, "park.yaml")
    return str(info.value)


@pytest.mark.parametrize("name", ["haiyan", "dameisha"])
def test_reference_parks_validate(name: str) -> None:
    park = load_park(MODELS / f"{name}.yaml")
    assert park.time_step_minutes == 15
    assert park.site.timezone == "Asia/Shanghai"
    assert park.resolve(park.weather.climate).exists()


def test_haiyan_holds_the_published_sizes() -> None:
    park = load_park(MODELS / "haiyan.yaml")
    assert sum(a.capacity_kwp for a in park.pv) == pytest.approx(7110 * 0.450)
    assert sum(f.count * f.turbine.rated_kw for f in park.wind) == pytest.approx(9300)
    assert park.batteries[0].power_kw == 250 and park.batteries[0].energy_kwh == 1000
    assert sum(c.count for c in park.ev.chargers) == 8


def test_unknown_key_is_an_error(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["batteries"][0].update(energy_kwhh=5))
    assert "batteries.0.energy_kwhh: unknown key" in msg
    assert msg.startswith("park.yaml")


def test_missing_required_field(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["grid"].pop("import_limit_kw"))
    assert "grid.import_limit_kw: required field is missing" in msg


def test_negative_power_names_value_and_bound(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["batteries"][0].update(power_kw=-250))
    assert "batteries.0.power_kw: got -250" in msg
    assert "greater than 0" in msg


def test_non_numeric_value(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["pv"][0].update(capacity_kwp="lots"))
    assert "pv.0.capacity_kwp: got 'lots'" in msg and "number" in msg


def test_soc_window_inverted(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["batteries"][0].update(soc_min=0.9, soc_max=0.2))
    assert "batteries.0" in msg and "soc_min < soc_max" in msg


def test_end_rule_fields_must_match_the_rule(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["batteries"][0].update(
        end_soc={"rule": "initial", "value_yuan_per_kwh": 0.4}))
    assert "batteries.0.end_soc" in msg and "needs rule: value" in msg
    msg = problems_for(haiyan_doc, lambda d: d["cooling"]["tank"].update(
        end_level={"rule": "fraction"}))
    assert "cooling.tank.end_level" in msg and "needs 'fraction'" in msg


def test_unknown_time_zone(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["site"].update(timezone="China/Beijing"))
    assert "site.timezone: got 'China/Beijing'" in msg and "IANA" in msg


def test_bad_bus_name(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["pv"][0].update(bus="hvdc"))
    assert "pv.0.bus: got 'hvdc'" in msg and "'ac' or 'dc'" in msg


def test_dc_asset_without_dc_bus(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d.pop("buses"))
    assert "need 'buses.dc'" in msg and "roof_concrete" in msg


def test_step_must_divide_an_hour(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d.update(time_step_minutes=7))
    assert "time_step_minutes: got 7" in msg and "15" in msg


def test_power_curve_speeds_out_of_order(haiyan_doc: dict) -> None:
    curve = {"cut_in_m_s": 10.0, "rated_m_s": 9.1, "cut_out_m_s": 20.0}
    msg = problems_for(haiyan_doc, lambda d: d["wind"][0]["turbine"].update(power_curve=curve))
    assert "wind.0.turbine.power_curve" in msg and "cut_in_m_s < rated_m_s < cut_out_m_s" in msg


def test_chiller_needs_exactly_one_cop(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["cooling"]["chillers"][0].update(cop=6.0))
    assert "cooling.chillers.0" in msg and "exactly one of 'cop' and 'cop_curve'" in msg


def test_duplicate_asset_names(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["pv"][1].update(name="roof_steel"))
    assert "repeated: roof_steel" in msg


def test_deferrable_energy_must_fit_its_window(haiyan_doc: dict) -> None:
    job = {"name": "kiln", "energy_kwh_per_day": 500, "max_kw": 50,
           "window_start_h": 0, "window_end_h": 6}
    msg = problems_for(haiyan_doc, lambda d: d.update(deferrable=[job]))
    assert "deferrable.0" in msg and "cannot fit in the window" in msg


def test_weather_source_needs_its_data(haiyan_doc: dict) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["weather"].update(source="epw"))
    assert "weather" in msg and "needs 'path'" in msg


def test_every_problem_is_reported_at_once(haiyan_doc: dict) -> None:
    def two_errors(d: dict) -> None:
        d["grid"]["import_limit_kw"] = 0
        d["tariff"]["export_price_yuan_per_kwh"] = -1
    msg = problems_for(haiyan_doc, two_errors)
    assert "grid.import_limit_kw" in msg and "tariff.export_price_yuan_per_kwh" in msg


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_park(["not", "a", "park"], "park.yaml")


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsite: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_park(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_park(tmp_path / "nope.yaml")


def test_paths_resolve_relative_to_the_config(tmp_path: Path, haiyan_doc: dict) -> None:
    doc = copy.deepcopy(haiyan_doc)
    doc["weather"]["climate"] = "climate.yaml"
    path = tmp_path / "sub" / "park.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(doc))
    park = load_park(path)
    assert park.resolve(park.weather.climate) == (tmp_path / "sub" / "climate.yaml").resolve()


def test_documented_schema_is_current() -> None:
    from parkgrid.config import schema_markdown

    documented = (MODELS.parent / "docs" / "config.md").read_text()
    assert documented.strip() == schema_markdown().strip(), "run: parkgrid schema > docs/config.md"


def _all_models() -> list[type]:
    from parkgrid.config import Park, _nested_models

    seen, queue = [], [Park]
    while queue:
        model = queue.pop(0)
        if model not in seen:
            seen.append(model)
            queue += [m for info in model.model_fields.values()
                      for m in _nested_models(info.annotation)]
    return seen


def test_every_field_has_a_description_and_a_unit_column() -> None:
    from parkgrid.config import schema_markdown

    missing = [f"{m.__name__}.{name}" for m in _all_models()
               for name, info in m.model_fields.items() if not info.description]
    assert not missing, f"fields without Field(description=...): {missing}"
    rows = [line for line in schema_markdown().splitlines() if line.startswith("| `")]
    assert rows and all(line.count(" | ") == 5 and not line.endswith("|  |") for line in rows)
    assert "Optional[" not in schema_markdown() and "FieldInfo" not in schema_markdown()
    # type, unit, range and default rendered from the field's annotation, as a reader sees them
    for row in ("| `bus` | `'ac' \\| 'dc'` | – | – | 'ac' | bus the battery is connected to |",
                "| `power_kw` | `float` | kW | (0, 1e+07] | required | charge and discharge "
                "power limit |",
                "| `charge_efficiency` | `float` | fraction | [0.5, 1] | 0.94 | one-way charge "
                "efficiency |"):
        assert row in rows, row


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("tariff", "export_price_yuan_per_kwh"), True, "valid number"),
    (("batteries", 0, "energy_kwh"), False, "valid number"),
    (("wind", 0, "count"), True, "valid integer"),
    (("batteries", 0, "power_kw"), "250", "valid number"),
    (("batteries", 0, "power_kw"), float("inf"), "finite number"),
    (("cooling", "load", "design_temp_c"), float("nan"), "finite number"),
    (("grid", "import_limit_kw"), 1e308, "less than or equal"),
    (("cooling", "chillers", 0, "cop_curve", "cop", 1), 1e6, "less than or equal"),
    (("site", "latitude_deg"), 90, "less than 90"),
    (("site", "altitude_m"), -20000, "greater than or equal"),
    (("site", "altitude_m"), 1e6, "less than or equal"),
    (("weather", "seed"), -1, "greater than or equal"),
    (("weather", "wind_speed_scale"), float("nan"), "finite number"),
    (("loads", 0, "synthetic", "annual_kwh"), float("inf"), "finite number"),
    (("objective", "mip_gap"), 1.0, "less than 1"),
])
def test_numbers_are_strict_finite_and_in_range(haiyan_doc: dict, path: tuple, value: object,
                                                expected: str) -> None:
    def edit(doc: dict) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    msg = problems_for(haiyan_doc, edit)
    assert f"{'.'.join(map(str, path))}: got" in msg and expected in msg


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["cooling"]["chillers"][1].update(name="maglev_1"), "repeated: maglev_1"),
    (lambda d: d["batteries"][0].update(name="plant"), "repeated: plant"),
    (lambda d: d["ev"]["chargers"][0].update(name="roof_steel"), "repeated: roof_steel"),
    (lambda d: d["batteries"][0].update(name="tank"), "reserved for the cooling tank"),
    (lambda d: d["batteries"][0].update(end_soc={"rule": "fraction", "fraction": 0.99}),
     "end_soc.fraction 0.99 must lie within [soc_min, soc_max]"),
    (lambda d: d["cooling"]["load"].update(balance_temp_c=36),
     "cooling.load.design_temp_c: got 35; expected a temperature above balance_temp_c (36)"),
])
def test_cross_field_rules(haiyan_doc: dict, edit, expected: str) -> None:
    assert expected in problems_for(haiyan_doc, edit)


def _laughs(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a' (first on line 1)"),
    ("grid:\n  import_limit_kw: 5\ngrid:\n  import_limit_kw: 6\n", "duplicate key 'grid'"),
    (_laughs(12), "aliases expand to more than 1,000,000 values"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 50 levels"),
    ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "x: 1\n",
     "nested deeper than 50 levels"),
])
def test_yaml_is_read_safely(tmp_path: Path, text: str, expected: str) -> None:
    from parkgrid.config import read_yaml

    path = tmp_path / "park.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert str(info.value).startswith(str(path)) and expected in str(info.value)


def test_yaml_aliases_within_bounds_are_read(tmp_path: Path) -> None:
    from parkgrid.config import read_yaml

    (tmp_path / "ok.yaml").write_text(_laughs(3))
    assert len(read_yaml(tmp_path / "ok.yaml")["a2"]) == 10


def test_non_utf8_and_oversized_files_name_the_file_and_byte(tmp_path: Path,
                                                              monkeypatch) -> None:
    from parkgrid import config

    path = tmp_path / "park.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"not UTF-8 text: byte 0xe9 at byte offset 9"):
        config.read_yaml(path)
    monkeypatch.setattr(config, "MAX_YAML_BYTES", 5)
    with pytest.raises(ConfigError, match=r"11 bytes; at most 5 are read"):
        config.read_yaml(path)


@pytest.mark.parametrize("which", ["climate", "calendar"])
def test_climate_and_calendar_files_are_read_safely(tmp_path: Path, haiyan_doc: dict,
                                                   which: str) -> None:
    from parkgrid.inputs import build_inputs

    bad = tmp_path / f"{which}.yaml"
    bad.write_bytes(b"a: 1\n# \xff\n")
    doc = copy.deepcopy(haiyan_doc)
    doc["weather"]["climate"] = str(MODELS.parent / "profiles" / "climate_hangzhou.yaml")
    if which == "climate":
        doc["weather"]["climate"] = str(bad)
    else:
        doc["tariff"]["calendar"] = str(bad)
    with pytest.raises(ConfigError, match=f"{which}.yaml: invalid config\n  - not UTF-8 text"):
        build_inputs(parse_park(doc, tmp_path / "park.yaml"))


@pytest.mark.parametrize("value", [0, "", "  ", True])
def test_file_paths_are_non_empty_text(haiyan_doc: dict, value: object) -> None:
    msg = problems_for(haiyan_doc, lambda d: d["weather"].update(climate=value))
    assert "weather.climate: got" in msg and "a file path (non-empty text)" in msg
