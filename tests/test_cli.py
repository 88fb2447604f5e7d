"""The `housing-match` command as a person uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app
from models import migrate

runner = CliRunner()


def test_demo_runs_a_real_round_on_the_fixtures(tmp_path: Path) -> None:
    """`demo` migrates a fresh SQLite file, loads the fixtures, solves and summarises."""
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "demo-round.json").read_text())
    stats = document["stats"]
    assert stats["households"] >= 200
    assert 0 < stats["matched"] <= min(stats["households"], stats["units"])
    assert stats["matched"] + len(document["unmatched"]) == stats["households"]
    assert all(u["reasons"] for u in document["unmatched"])
    assert "households housed" in result.output
    assert str(stats["matched"]) in result.output
    assert "demo-round.json" in result.output
    assert "demo-report.html" in result.output
    assert (tmp_path / "demo-report.html").read_text().startswith("<!DOCTYPE html>")
    assert "open http://127.0.0.1:8000/ui and sign in with" in result.output


def test_demo_is_repeatable(tmp_path: Path) -> None:
    """Running the demo twice starts afresh and gives the same round."""
    first = runner.invoke(app, ["demo", "--workdir", str(tmp_path)])
    document = (tmp_path / "demo-round.json").read_text()
    second = runner.invoke(app, ["demo", "--workdir", str(tmp_path)])
    assert first.exit_code == second.exit_code == 0

    def strip(text: str) -> dict[str, Any]:
        return {k: v for k, v in json.loads(text).items() if k != "stats"}

    assert strip(document) == strip((tmp_path / "demo-round.json").read_text())


def test_db_upgrade_and_downgrade_commands(tmp_path: Path) -> None:
    """`db upgrade` and `db downgrade base` report the revision they leave."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    up = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert up.exit_code == 0, up.output
    assert f"schema at {migrate.head()}" in up.output
    down = runner.invoke(app, ["db", "downgrade", "base", "--database-url", url])
    assert down.exit_code == 0, down.output
    assert "schema at base" in down.output


def test_load_fixtures_refuses_a_malformed_directory(tmp_path: Path, fixtures_dir: Path) -> None:
    """A broken fixture file fails with file, line and field, and leaves the database empty."""
    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    broken = tmp_path / "fixtures"
    broken.mkdir()
    for name in ("landlords.csv", "households.json"):
        (broken / name).write_text((fixtures_dir / name).read_text(encoding="utf-8"))
    lines = (fixtures_dir / "units.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(",direct", ",lease-to-own")
    (broken / "units.csv").write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app, ["load-fixtures", "--directory", str(broken), "--database-url", url]
    )
    assert result.exit_code == 1
    assert "units.csv, line 6, column 'lease_kind' ('lease-to-own')" in result.output
    loaded = runner.invoke(app, ["load-fixtures", "--database-url", url])
    assert loaded.exit_code == 0, loaded.output  # nothing of the failed load was left behind


def test_solve_example_round_trip(tmp_path: Path) -> None:
    """`solve --example` prints a valid input, and `solve` turns it into a result file."""
    example = runner.invoke(app, ["solve", "--example"])
    assert example.exit_code == 0
    round_file = tmp_path / "round.json"
    round_file.write_text(example.output)
    output = tmp_path / "result.json"
    result = runner.invoke(app, ["solve", str(round_file), "-o", str(output)])
    assert result.exit_code == 0, result.output
    document = json.loads(output.read_text())
    assert set(document) >= {"matches", "unmatched", "stats"}
    assert document["stats"]["households"] == len(json.loads(example.output)["households"])


def test_solve_names_the_json_path_of_a_bad_field(tmp_path: Path) -> None:
    """Invalid input exits non-zero and names the JSON path of each bad field."""
    round_file = tmp_path / "round.json"
    round_file.write_text(
        json.dumps(
            {
                "households": [
                    {
                        "id": "h",
                        "adults": "two",
                        "monthly_resources_eur": 1,
                        "registered_on": "2026-01-01",
                    }
                ],
                "units": [
                    {
                        "id": "u",
                        "lat": 45.0,
                        "lon": 3.0,
                        "rooms": 2,
                        "surface_m2": -3,
                        "rent_eur": 1,
                        "available_from": "2026-01-01",
                    }
                ],
            }
        )
    )
    result = runner.invoke(app, ["solve", str(round_file)])
    assert result.exit_code == 1
    assert "$.households[0].adults" in result.output
    assert "$.units[0].surface_m2" in result.output


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    """Loading into a database without the schema says to run `db upgrade` first."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = runner.invoke(app, ["load-fixtures", "--database-url", url])
    assert result.exit_code == 1
    assert "run `housing-match db upgrade` first" in result.output


def test_keys_are_created_once_listed_and_revoked(tmp_path: Path) -> None:
    """`keys create` prints the key once; `keys list` shows only its prefix; `keys revoke`
    marks it revoked; a landlord key needs a known landlord."""
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    assert runner.invoke(app, ["load-fixtures", "--database-url", url]).exit_code == 0
    created = runner.invoke(app, ["keys", "create", "--role", "admin", "--database-url", url])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("hm_")
    listed = runner.invoke(app, ["keys", "list", "--database-url", url])
    assert token[:10] in listed.output
    assert token not in listed.output
    revoked = runner.invoke(app, ["keys", "revoke", token[:10], "--database-url", url])
    assert revoked.exit_code == 0
    assert "True" in runner.invoke(app, ["keys", "list", "--database-url", url]).output
    unknown = runner.invoke(
        app, ["keys", "create", "--role", "landlord", "--landlord", "Nobody", "--database-url", url]
    )
    assert unknown.exit_code == 1
    assert "Nobody" in unknown.output


def test_an_unreachable_database_is_said_in_one_line() -> None:
    """`serve`, `worker` and `db upgrade` against a database nobody answers for: one line on
    standard error and exit status 1, not a traceback of 500 lines."""
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    for command in (["serve"], ["worker"], ["db", "upgrade"]):
        finished = subprocess.run(
            [sys.executable, "-m", "cli.main", *command, "--database-url", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert finished.returncode == 1, finished.stderr
        lines = finished.stderr.strip().splitlines()
        assert len(lines) == 1, finished.stderr
        assert lines[0].startswith("cannot reach the database: ")
        assert "Traceback" not in finished.stderr + finished.stdout


def test_a_landlord_is_created_then_given_a_key(tmp_path: Path) -> None:
    """On a fresh database, `keys create --role landlord` needs the landlord to exist
    ("landlord not found"): `landlords create` registers it; a second time is refused."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    created = runner.invoke(
        app, ["landlords", "create", "Dome Habitat", "--siren", "900000011", "--database-url", url]
    )
    assert created.exit_code == 0, created.output
    assert "landlord Dome Habitat registered" in created.output
    again = runner.invoke(app, ["landlords", "create", "Dome Habitat", "--database-url", url])
    assert again.exit_code == 1
    bad = runner.invoke(app, ["landlords", "create", "X", "--siren", "12", "--database-url", url])
    assert bad.exit_code == 2
    key = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--role",
            "landlord",
            "--landlord",
            "Dome Habitat",
            "--database-url",
            url,
        ],
    )
    assert key.exit_code == 0, key.output
    listed = runner.invoke(app, ["landlords", "list", "--database-url", url])
    assert "900000011" in listed.output


def test_a_round_is_run_listed_shown_and_published_from_the_command_line(
    tmp_path: Path,
) -> None:
    """On the fixtures: a dry run stores nothing; a run stores a round that `round list`
    and `round show` present and `round publish` turns into proposals, once."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = ["--database-url", url]
    assert runner.invoke(app, ["db", "upgrade", *database]).exit_code == 0
    assert runner.invoke(app, ["load-fixtures", *database]).exit_code == 0
    dry = runner.invoke(app, ["round", "run", "--dry-run", *database])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was stored" in dry.output
    assert "Round (not stored)" in dry.output
    phases = ["reading the waiting", "finding the feasible", "solving:", "explaining each"]
    positions = [dry.output.index(phase) for phase in phases]  # each phase shown, in order
    assert positions == sorted(positions)
    listed = runner.invoke(app, ["round", "list", *database])
    assert "solved" not in listed.output
    result_path = tmp_path / "round.json"
    ran = runner.invoke(app, ["round", "run", "-o", str(result_path), *database])
    assert ran.exit_code == 0, ran.output
    assert ran.output.index("explaining each") < ran.output.index("storing the result")
    matched = json.loads(result_path.read_text())["stats"]["matched"]
    assert "snapshot" not in json.loads(result_path.read_text())
    listed = runner.invoke(app, ["round", "list", *database])
    assert "solved" in listed.output
    shown = runner.invoke(app, ["round", "show", "1", *database])
    assert shown.exit_code == 0, shown.output
    assert "Round 1" in shown.output
    published = runner.invoke(app, ["round", "publish", "1", *database])
    assert published.exit_code == 0, published.output
    assert f"{matched} proposals" in published.output
    again = runner.invoke(app, ["round", "publish", "1", *database])
    assert again.exit_code == 1
    assert "only a solved round can be published" in again.output


def test_templates_are_written_and_import_back(tmp_path: Path) -> None:
    """`template` picks the kind from the file name; its output imports unchanged."""
    url = f"sqlite:///{tmp_path / 't.sqlite3'}"
    database = ["--database-url", url]
    assert runner.invoke(app, ["db", "upgrade", *database]).exit_code == 0
    menages = tmp_path / "menages.xlsx"
    written = runner.invoke(app, ["template", str(menages)])
    assert written.exit_code == 0, written.output
    imported = runner.invoke(app, ["import", "households", str(menages), *database])
    assert "1 created" in imported.output, imported.output
    again = runner.invoke(app, ["import", "households", str(menages), *database])
    assert "0 created, 0 updated, 1 unchanged" in again.output
    unknown = runner.invoke(app, ["template", str(tmp_path / "data.csv")])
    assert unknown.exit_code == 2
    assert "--kind households or --kind units" in unknown.output


def test_spreadsheets_are_imported_from_the_command_line(tmp_path: Path) -> None:
    """A landlord's units from an XLSX file and households from a French CSV; a file with a
    bad cell is refused whole, each bad cell named, and stores nothing."""
    import openpyxl

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = ["--database-url", url]
    assert runner.invoke(app, ["db", "upgrade", *database]).exit_code == 0
    assert runner.invoke(app, ["landlords", "create", "Dome Habitat", *database]).exit_code == 0
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        ["Référence", "Commune", "Code postal", "Pièces", "Surface", "Loyer", "Disponible le"]
    )
    sheet.append(["LOT-1", "Riom", "63200", 2, 45.5, 300, "01/12/2026"])
    sheet.append(["LOT-2", "Riom", "63200", 3, 61, 355, "01/12/2026"])
    units = tmp_path / "logements.xlsx"
    workbook.save(units)
    imported = runner.invoke(
        app, ["import", "units", str(units), "--landlord", "Dome Habitat", *database]
    )
    assert imported.exit_code == 0, imported.output
    assert "2 created, 0 updated, 0 unchanged" in imported.output
    unknown = runner.invoke(app, ["import", "units", str(units), "--landlord", "Nobody", *database])
    assert unknown.exit_code == 1

    households = tmp_path / "menages.csv"
    households.write_bytes(
        (
            "Référence;Adultes;Ressources mensuelles;Inscrit le\n"
            "HH-1;1;1 100,50;10/01/2026\n"
            "HH-2;zéro;900;10/01/2026\n"
        ).encode("cp1252")
    )
    refused = runner.invoke(app, ["import", "households", str(households), *database])
    assert refused.exit_code == 1
    assert "line 3, column 'Adultes' ('zéro')" in refused.output
    assert "nothing imported" in refused.output
    households.write_bytes(households.read_bytes().replace("zéro".encode("cp1252"), b"2"))
    imported = runner.invoke(app, ["import", "households", str(households), *database])
    assert imported.exit_code == 0, imported.output
    assert "2 created, 0 updated, 0 unchanged" in imported.output


def test_a_round_is_exported_as_xlsx_and_csv(tmp_path: Path) -> None:
    """Every proposal and every unmatched household of a stored round, in both formats."""
    from python_calamine import CalamineWorkbook

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = ["--database-url", url]
    assert runner.invoke(app, ["db", "upgrade", *database]).exit_code == 0
    assert runner.invoke(app, ["load-fixtures", *database]).exit_code == 0
    result_path = tmp_path / "round.json"
    assert runner.invoke(app, ["round", "run", "-o", str(result_path), *database]).exit_code == 0
    result = json.loads(result_path.read_text())
    xlsx = tmp_path / "round.xlsx"
    exported = runner.invoke(app, ["round", "export", "1", "-o", str(xlsx), *database])
    assert exported.exit_code == 0, exported.output
    workbook = CalamineWorkbook.from_path(str(xlsx))
    proposals = workbook.get_sheet_by_name("proposals").to_python()
    unmatched = workbook.get_sheet_by_name("unmatched").to_python()
    assert len(proposals) - 1 == len(result["matches"])
    assert len(unmatched) - 1 == len(result["unmatched"])
    exported = runner.invoke(
        app, ["round", "export", "1", "-o", str(tmp_path / "r.csv"), *database]
    )
    assert exported.exit_code == 0, exported.output
    lines = (tmp_path / "r-unmatched.csv").read_text(encoding="utf-8-sig")
    assert result["unmatched"][0]["household"] in lines
    assert runner.invoke(app, ["round", "export", "9", "-o", str(xlsx), *database]).exit_code == 1


def test_solve_loads_no_database_web_or_quota_library() -> None:
    """`housing-match solve` of a round without the quota imports neither SQLAlchemy, Alembic
    nor the API, nor the quota's CP-SAT and HiGHS: they were most of its time; nor geopy, as
    the offline gazetteer places the example's workplace."""
    probe = (
        "import sys\n"
        "from cli.main import app\n"
        "sys.argv = ['housing-match', 'solve', 'fixtures/example_round.json']\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'fastapi', 'ortools.sat.python.cp_model', 'highspy',\n"
        "         'pylmcf', 'geopy')\n"
        "print(sorted(name for name in heavy if name in sys.modules), file=sys.stderr)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["status"] == "optimal"
    assert done.stderr.strip().splitlines()[-1] == "[]"
