"""The `housing-match` command: database, fixtures, the demo round, the solver, the API."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from models import ApiRole, LeaseKind
from services.actors import SYSTEM, Actor
from services.clock import SYSTEM_CLOCK
from services.errors import InvalidImport, InvalidInput, NotFound

# Each command imports what it uses: `solve` and `--help` never load SQLAlchemy, Alembic or
# the HTTP stack (they took most of a small round's 1.5 s), nor the settings when the round
# gives coordinates.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from services.geocoding import Geocoder
    from services.imports import Imported
    from services.roundfile import PolicyIn
    from services.settings import Settings

app = typer.Typer(
    help="Match refugee households with vacant social housing units.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="API keys (printed once, stored hashed).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
landlords_app = typer.Typer(help="Social landlords.", no_args_is_help=True)
app.add_typer(landlords_app, name="landlords")
round_app = typer.Typer(help="Match rounds on the configured database.", no_args_is_help=True)
app.add_typer(round_app, name="round")
import_app = typer.Typer(
    help="Import XLSX, ODS, CSV or JSON files, all or nothing.", no_args_is_help=True
)
app.add_typer(import_app, name="import")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides DATABASE_URL.")
]


def _settings(database_url: str | None = None) -> Settings:
    from services.settings import Settings

    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def _geocoder() -> Geocoder:
    """The configured geocoder, for a round file whose places need one."""
    from services.geocoding import make_geocoder

    return make_geocoder(_settings())


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database (each command opens its own)."""
    from models.db import make_engine, session_factory

    return session_factory(make_engine(settings.database_url))


def _require_current_schema(database_url: str) -> None:
    from models import migrate

    current, latest = migrate.current(database_url), migrate.head()
    if current != latest:
        err.print(
            f"The database schema is at {current or 'nothing'}, the code needs {latest}: "
            "run `housing-match db upgrade` first."
        )
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument()] = "head", database_url: DatabaseOption = None
) -> None:
    """Migrate the schema up to REVISION (default: the latest)."""
    from models import migrate

    settings = _settings(database_url)
    migrate.upgrade(settings.database_url, revision)
    out.print(f"schema at {migrate.current(settings.database_url)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="e.g. -1 or base")],
    database_url: DatabaseOption = None,
) -> None:
    """Migrate the schema down to REVISION ("base" removes every table)."""
    from models import migrate

    settings = _settings(database_url)
    migrate.downgrade(settings.database_url, revision)
    out.print(f"schema at {migrate.current(settings.database_url) or 'base'}")


@keys_app.command("create")
def keys_create(
    role: Annotated[ApiRole, typer.Option(help="landlord, coordinator or admin")],
    name: Annotated[str | None, typer.Option(help="Who holds the key (a person or system)")] = None,
    landlord: Annotated[str | None, typer.Option(help="The landlord of a landlord key")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an API key and print it once."""
    from models.db import transaction
    from services.access import create_key

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    owner = name or landlord or (str(role) if role is ApiRole.ADMIN else None)
    if not owner:
        err.print("give --name (or --landlord for a landlord key)")
        raise typer.Exit(2)
    factory = _sessions(settings)
    try:
        with transaction(factory) as session:
            key, token = create_key(session, role, owner, landlord)
            prefix = key.prefix
    except (NotFound, InvalidInput) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.print(f"{role} key for {owner} (prefix {prefix}); it is shown only now:")
    sys.stdout.write(token + "\n")


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix, as `keys list` shows it")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API key: running servers refuse it within HOUSING_MATCH_KEY_CACHE_SECONDS."""
    from models.db import transaction
    from services.access import revoke_key

    settings = _settings(database_url)
    factory = _sessions(settings)
    try:
        with transaction(factory) as session:
            revoke_key(session, prefix, SYSTEM_CLOCK.now())
    except NotFound as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.print(
        f"key {prefix} revoked: running servers refuse it within {settings.key_cache_seconds:g} s"
    )


@keys_app.command("list")
def keys_list(database_url: DatabaseOption = None) -> None:
    """Every key: prefix, role, owner, whether revoked."""
    from rich.table import Table

    from models.db import transaction

    settings = _settings(database_url)
    factory = _sessions(settings)
    table = Table("prefix", "role", "owner", "revoked", "created")
    from services.admin import list_keys

    with transaction(factory) as session:
        for key in list_keys(session, SYSTEM):
            table.add_row(
                key.prefix, str(key.role), key.owner, str(key.revoked), str(key.created_at)
            )
    out.print(table)


@landlords_app.command("create")
def landlords_create(
    name: Annotated[str, typer.Argument(help="The landlord's name, as its units will carry it")],
    siren: Annotated[str | None, typer.Option(help="Its SIREN (9 digits)")] = None,
    contact_email: Annotated[str | None, typer.Option(help="Who receives proposals")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Register a social landlord (then give it a key: keys create --role landlord)."""
    from pydantic import ValidationError

    from models.db import transaction
    from services.admin import create_landlord
    from services.errors import Conflict
    from services.records import LandlordRecord

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    try:
        record = LandlordRecord(name=name, siren=siren, contact_email=contact_email)
    except ValidationError as error:
        for problem in error.errors():
            err.print(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}", markup=False)
        raise typer.Exit(2) from None
    factory = _sessions(settings)
    try:
        with transaction(factory) as session:
            landlord_id = create_landlord(session, SYSTEM, record).id
    except Conflict as error:
        err.print(str(error), markup=False)
        raise typer.Exit(1) from None
    out.print(f"landlord {name} registered (id {landlord_id})", highlight=False, markup=False)


@landlords_app.command("list")
def landlords_list(database_url: DatabaseOption = None) -> None:
    """Every landlord: id, name, SIREN, contact."""
    from rich.table import Table

    from models.db import transaction
    from services.admin import list_landlords

    settings = _settings(database_url)
    factory = _sessions(settings)
    table = Table("id", "name", "SIREN", "contact")
    with transaction(factory) as session:
        for landlord in list_landlords(session, SYSTEM):
            table.add_row(
                str(landlord.id), landlord.name, landlord.siren or "", landlord.contact_email or ""
            )
    out.print(table)


@app.command("load-fixtures")
def load_fixtures_command(
    directory: Annotated[
        Path | None, typer.Option(help="Defaults to the shipped fixtures.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Load landlords, units and households from a fixtures directory, all or nothing."""
    from models.db import transaction
    from services.geocoding import make_geocoder
    from services.imports import load_fixtures

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    factory = _sessions(settings)
    try:
        with transaction(factory) as session:
            counts = load_fixtures(
                session, directory or settings.fixtures_dir, make_geocoder(settings)
            )
    except InvalidImport as error:
        err.print(f"[red]Import refused:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    out.print(", ".join(f"{n} {kind}" for kind, n in counts.items()) + " loaded")


@app.command()
def solve(
    round_file: Annotated[Path | None, typer.Argument(help="Round JSON; '-' for stdin.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Result JSON file.")] = None,
    example: Annotated[bool, typer.Option("--example", help="Print a small valid input.")] = False,
    schema: Annotated[bool, typer.Option("--schema", help="Print the input JSON Schema.")] = False,
    result_schema_flag: Annotated[
        bool, typer.Option("--result-schema", help="Print the result JSON Schema.")
    ] = False,
) -> None:
    """Run the matcher alone on a round file (households, units, policy) and write the result."""
    from services.roundfile import (
        InvalidRoundFile,
        dumps,
        input_schema,
        result_schema,
        solve_round_text,
    )

    if example:
        sys.stdout.write((_settings().fixtures_dir / "example_round.json").read_text())
        return
    if schema or result_schema_flag:
        sys.stdout.write(dumps(input_schema() if schema else result_schema()))
        return
    if round_file is None:
        err.print("give a ROUND_FILE, or --example")
        raise typer.Exit(2)
    text = sys.stdin.read() if str(round_file) == "-" else round_file.read_text(encoding="utf-8")
    try:
        result = solve_round_text(text, _geocoder, SYSTEM_CLOCK.today())
    except InvalidRoundFile as error:
        err.print("[red]Invalid round:[/red]", highlight=False)
        for path, message in error.problems:
            err.print(f"  {path}: {message}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    document = dumps(result)
    if output:
        output.write_text(document, encoding="utf-8")
        stats = result["stats"]
        err.print(f"{stats['matched']} of {stats['households']} households matched -> {output}")
    else:
        sys.stdout.write(document)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (PostgreSQL only past 1)")
    ] = 1,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the HTTP API (uvicorn)."""
    import os

    import uvicorn

    from api.app import create_app
    from cli.serving import serve_processes, settled

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    if workers == 1:
        uvicorn.run(settled(create_app(settings)), host=host, port=port)
        return
    if settings.database_url.startswith("sqlite"):
        err.print("several server processes need PostgreSQL (SQLite has one writer)")
        raise typer.Exit(2)
    # Each process builds its own app from the environment (DATABASE_URL comes first).
    os.environ["DATABASE_URL"] = settings.database_url
    serve_processes("cli.serving:app_of_process", host, port, workers)


@app.command()
def worker(database_url: DatabaseOption = None) -> None:
    """Solve queued rounds (and expire overdue proposals) until stopped with Ctrl-C.
    `serve` already runs one; start more on other machines against the same PostgreSQL."""
    import os
    import socket
    import threading

    from services.worker import RoundWorker

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    stop = threading.Event()
    name = f"{socket.gethostname()}:{os.getpid()}"
    out.print(f"worker {name} waiting for rounds (Ctrl-C to stop)")
    try:
        RoundWorker(
            _sessions(settings),
            name,
            retention_days=settings.retention_days,
            stale_after_s=settings.round_stale_after_s,
            clock=SYSTEM_CLOCK,
        ).run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo database and result go.")] = Path(
        "out"
    ),
) -> None:
    """The main job on the embedded default: a fresh SQLite database, the shipped fixtures,
    one match round, and a readable summary."""
    from models import migrate
    from models.db import make_engine, session_factory, transaction
    from services.access import create_key
    from services.geocoding import make_geocoder
    from services.imports import load_fixtures
    from services.roundfile import dumps
    from services.rounds import run_round
    from services.territories import ScopedPolicyIn

    settings = _settings()
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "demo.sqlite3"
    database.unlink(missing_ok=True)
    database_url = f"sqlite:///{database}"
    out.print(f"[bold]housing-match demo[/bold]: fresh SQLite database {database}")
    migrate.upgrade(database_url)
    out.print(f"  schema migrated to {migrate.current(database_url)}")

    factory = session_factory(make_engine(database_url))
    with transaction(factory) as session:
        counts = load_fixtures(session, settings.fixtures_dir, make_geocoder(settings))
    out.print(
        f"  fixtures loaded (Puy-de-Dome): {counts['landlords']} landlords, "
        f"{counts['units']} units, {counts['households']} households"
    )
    policy = ScopedPolicyIn.model_validate_json(
        (settings.fixtures_dir / "demo_policy.json").read_text(encoding="utf-8")
    )
    with transaction(factory) as session:
        match_round = run_round(session, policy, "demo", SYSTEM_CLOCK)
    if match_round.result is None:
        err.print(f"[red]round failed:[/red] {match_round.error}")
        raise typer.Exit(1)
    result = match_round.result
    result_path = workdir / "demo-round.json"
    result_path.write_text(dumps(result), encoding="utf-8")
    _print_summary(result, policy, match_round.id, result_path)
    from services.report import render_report

    report_path = workdir / "demo-report.html"
    with factory() as session:
        report_path.write_text(
            render_report(session, COMMAND_LINE, match_round.id), encoding="utf-8"
        )
    out.print(f"Round report (open it in a browser, print it): {report_path}", highlight=False)
    with transaction(factory) as session:
        coordinator_key = create_key(session, ApiRole.COORDINATOR, "demo coordinator")[1]
        landlord_key = create_key(session, ApiRole.LANDLORD, "demo landlord", "Dome Habitat")[1]
    out.print(
        "\n[bold]The pages[/bold]: run\n"
        f"  DATABASE_URL={database_url} .venv/bin/housing-match serve\n"
        "then open http://127.0.0.1:8000/ui and sign in with\n"
        f"  a coordinator's key:            {coordinator_key}\n"
        f"  Dome Habitat's (landlord) key:  {landlord_key}\n"
        "(keys of this demo database only)",
        highlight=False,
    )


# The command line acts as the coordinator who runs it (audited under this name).
COMMAND_LINE = Actor(key_id=None, role=ApiRole.COORDINATOR, name="command line")


# Words in a template's file name that say which template it is.
TEMPLATE_NAMES = {"households": ("household", "menage", "ménage"), "units": ("unit", "logement")}

FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="XLSX, ODS, CSV or JSON")
]


def _import(
    database_url: str | None, file: Path, run: Callable[[Session, str, bytes], Imported[Any]]
) -> None:
    """One import in one transaction: its rows, or every bad cell and nothing stored."""
    from models.db import transaction

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    factory = _sessions(settings)
    try:
        with transaction(factory) as session:
            imported = run(session, file.name, file.read_bytes())
            counts = (
                f"{len(imported.created)} created, {len(imported.updated)} updated, "
                f"{len(imported.unchanged)} unchanged"
            )
    except InvalidImport as error:
        for row_error in error.errors[:100]:
            err.print(str(row_error), markup=False, highlight=False)
        err.print(f"{len(error.errors)} error(s): nothing imported", markup=False)
        raise typer.Exit(1) from None
    except NotFound as error:
        err.print(str(error), markup=False)
        raise typer.Exit(1) from None
    out.print(f"{counts} from {file}", highlight=False, markup=False)


@app.command("template")
def template(
    file: Annotated[Path, typer.Argument(help="households.xlsx, units.xlsx, or .csv")],
    kind: Annotated[
        str | None, typer.Option(help="households or units (default: from the file's name)")
    ] = None,
    english: Annotated[bool, typer.Option(help="English headers and conventions")] = False,
) -> None:
    """Write an import template: headers, an example row that imports as it is, and (XLSX)
    a notes sheet and lists for the closed choices."""
    from services import templates

    name = file.name.lower()
    chosen = kind or next(
        (k for k, words in TEMPLATE_NAMES.items() if any(word in name for word in words)), None
    )
    if chosen not in templates.COLUMNS:
        err.print("say --kind households or --kind units", markup=False)
        raise typer.Exit(2)
    language: templates.Language = "en" if english else "fr"
    which: templates.Kind = "households" if chosen == "households" else "units"
    data = (
        templates.as_csv(which, language)
        if name.endswith(".csv")
        else templates.as_xlsx(which, language)
    )
    file.write_bytes(data)
    out.print(f"{which} template written to {file}", highlight=False, markup=False)


@import_app.command("households")
def import_households_command(file: FileArgument, database_url: DatabaseOption = None) -> None:
    """Households waiting to be housed (as the coordinator running the command)."""
    from services.geocoding import make_geocoder
    from services.households import import_coordinator_households

    settings = _settings(database_url)
    geocoder = make_geocoder(settings)
    _import(
        database_url,
        file,
        lambda session, name, data: import_coordinator_households(
            session, COMMAND_LINE, name, data, geocoder
        ),
    )


@import_app.command("units")
def import_units_command(
    file: FileArgument,
    landlord: Annotated[str, typer.Option(help="Whose units they are (landlords list)")],
    available_from: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="For rows without it (RPLS: today)"),
    ] = None,
    lease_kind: Annotated[
        LeaseKind | None, typer.Option(help="For rows without it (default: direct)")
    ] = None,
    elevator: Annotated[
        bool | None, typer.Option("--elevator/--no-elevator", help="For rows without it (no)")
    ] = None,
    charges_eur: Annotated[
        float | None, typer.Option(help="Monthly charges for rows without them (0)")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """One landlord's vacant units (as that landlord): a template, any spreadsheet with
    known columns, or an RPLS extract. A unit already posted is updated if its row changed."""
    from services.admin import landlord_named
    from services.geocoding import make_geocoder
    from services.units import UnitDefaults, import_landlord_units

    settings = _settings(database_url)
    geocoder = make_geocoder(settings)
    try:
        given = {
            "available_from": available_from.date() if available_from else None,
            "lease_kind": lease_kind,
            "elevator": elevator,
            "charges_eur": charges_eur,
        }
        defaults = UnitDefaults.model_validate(given).given()
    except ValueError as error:  # pydantic's ValidationError: a negative charge, say
        err.print(str(error), markup=False)
        raise typer.Exit(2) from None

    def run(session: Session, name: str, data: bytes) -> Imported[Any]:
        owner = landlord_named(session, landlord)
        holder = Actor(None, ApiRole.LANDLORD, "command line", landlord_id=owner.id)
        return import_landlord_units(
            session, holder, name, data, geocoder, defaults, today=SYSTEM_CLOCK.today()
        )

    _import(database_url, file, run)


@round_app.command("run")
def round_run(
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="A policy as JSON (defaults otherwise)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Solve and print, store nothing")
    ] = False,
    output: Annotated[Path | None, typer.Option("-o", help="Write the result JSON here")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Every waiting household and every vacant unit: solve a round now and summarise it."""
    from pydantic import ValidationError

    from models.db import transaction
    from services.roundfile import dumps
    from services.rounds import PHASE_TEXT, RoundPhase, compute_round, run_round
    from services.territories import ScopedPolicyIn

    settings = _settings(database_url)
    _require_current_schema(settings.database_url)
    try:
        text = policy_file.read_text(encoding="utf-8") if policy_file else "{}"
        policy = ScopedPolicyIn.model_validate_json(text)
    except (OSError, ValidationError) as error:
        err.print(f"policy: {error}", markup=False)
        raise typer.Exit(2) from None
    factory = _sessions(settings)
    result: dict[str, Any] | None
    round_id: int | None
    started = time.perf_counter()
    with out.status("starting") as status:

        def show(phase: RoundPhase) -> None:
            elapsed = time.perf_counter() - started
            out.print(f"  {elapsed:6.1f} s  {PHASE_TEXT[phase]}", highlight=False)
            status.update(PHASE_TEXT[phase] + "...")

        if dry_run:
            with factory() as session:
                document = policy.dated(SYSTEM_CLOCK.today()).model_dump(mode="json")
                result, round_id = compute_round(session, document, show).result, None
        else:
            with transaction(factory) as session:
                match_round = run_round(session, policy, "command line", SYSTEM_CLOCK, show)
                result, round_id = match_round.result, match_round.id
        out.print(f"  {time.perf_counter() - started:6.1f} s  done", highlight=False)
    if result is None:
        err.print("the round failed")
        raise typer.Exit(1)
    if output is not None:
        output.write_text(dumps(result), encoding="utf-8")
    _print_summary(result, policy, round_id, output)
    if dry_run:
        out.print("dry run: nothing was stored")


@round_app.command("list")
def round_list(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    database_url: DatabaseOption = None,
) -> None:
    """The latest rounds, newest first."""
    from rich.table import Table

    from services.rounds import list_rounds

    settings = _settings(database_url)
    factory = _sessions(settings)
    table = Table("id", "status", "created", "by", "households", "matched")
    with factory() as session:
        rows, _ = list_rounds(session, COMMAND_LINE, limit=limit)
        for match_round in rows:
            stats = match_round.statistics or {}
            table.add_row(
                str(match_round.id),
                str(match_round.status),
                f"{match_round.created_at:%Y-%m-%d %H:%M}",
                match_round.created_by,
                str(stats.get("households", "")),
                str(stats.get("matched", "")),
            )
    out.print(table)


@round_app.command("show")
def round_show(
    round_id: Annotated[int, typer.Argument(help="As `round list` shows it")],
    database_url: DatabaseOption = None,
) -> None:
    """A round's summary: figures, best matches, why households were not matched."""
    from services.rounds import get_round
    from services.territories import ScopedPolicyIn

    settings = _settings(database_url)
    factory = _sessions(settings)
    with factory() as session:
        try:
            match_round = get_round(session, COMMAND_LINE, round_id)
        except NotFound as error:
            err.print(str(error), markup=False)
            raise typer.Exit(1) from None
        if match_round.result is None:
            out.print(f"round {round_id} is {match_round.status}: no result")
            return
        policy = ScopedPolicyIn.model_validate(match_round.policy)
        _print_summary(match_round.result, policy, round_id, None)


@round_app.command("export")
def round_export(
    round_id: Annotated[int, typer.Argument(help="As `round list` shows it")],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            help="A .xlsx file (a sheet of proposals, one of unmatched households) or a .csv "
            "file (the proposals; the unmatched households go beside it, in NAME-unmatched.csv)",
        ),
    ],
    database_url: DatabaseOption = None,
) -> None:
    """A round's proposals and unmatched households as a spreadsheet (coordinators only: the
    reasons name households' needs)."""
    from services.exports import to_csv, to_xlsx
    from services.rounds import get_round

    settings = _settings(database_url)
    factory = _sessions(settings)
    with factory() as session:
        try:
            match_round = get_round(session, COMMAND_LINE, round_id)
        except NotFound as error:
            err.print(str(error), markup=False)
            raise typer.Exit(1) from None
        result = match_round.result
    if result is None:
        err.print(f"round {round_id} has no result", markup=False)
        raise typer.Exit(1)
    if output.suffix.lower() == ".xlsx":
        output.write_bytes(to_xlsx(result))
        written = [output]
    elif output.suffix.lower() == ".csv":
        unmatched = output.with_name(f"{output.stem}-unmatched.csv")
        output.write_text(to_csv(result, "proposals"), encoding="utf-8-sig")
        unmatched.write_text(to_csv(result, "unmatched"), encoding="utf-8-sig")
        written = [output, unmatched]
    else:
        err.print("give a .xlsx or .csv file")
        raise typer.Exit(2)
    out.print("written: " + ", ".join(map(str, written)), highlight=False, markup=False)


@round_app.command("report")
def round_report(
    round_id: Annotated[int, typer.Argument(help="As `round list` shows it")],
    output: Annotated[Path, typer.Option("-o", help="The HTML file to write")],
    english: Annotated[bool, typer.Option(help="In English (default: French)")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """A round's report: one HTML file that opens offline and prints on A4 (coordinators
    only: it names households and their needs)."""
    from services.errors import Conflict
    from services.report import render_report

    settings = _settings(database_url)
    factory = _sessions(settings)
    with factory() as session:
        try:
            html = render_report(session, COMMAND_LINE, round_id, "en" if english else "fr")
        except (NotFound, Conflict) as error:
            err.print(str(error), markup=False)
            raise typer.Exit(1) from None
    output.write_text(html, encoding="utf-8")
    out.print(f"written: {output}", highlight=False, markup=False)


@round_app.command("publish")
def round_publish(
    round_id: Annotated[int, typer.Argument(help="As `round list` shows it")],
    skip_changed: Annotated[
        bool,
        typer.Option(help="Leave out the pairs whose household or unit changed since"),
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Publish a solved round as proposals, in one transaction."""
    from models.db import transaction
    from services.errors import Conflict
    from services.rounds import publish_round

    settings = _settings(database_url)
    factory = _sessions(settings)
    try:
        with transaction(factory) as session:
            publication = publish_round(
                session,
                COMMAND_LINE,
                round_id,
                SYSTEM_CLOCK,
                settings.household_response_days,
                skip_changed=skip_changed,
            )
            count = len(publication.proposal_ids)
    except (Conflict, NotFound) as error:
        err.print(str(error), markup=False)
        raise typer.Exit(1) from None
    out.print(f"round {round_id} published: {count} proposals")
    if publication.left_out:
        out.print("left out (changed since the round): " + ", ".join(publication.left_out))


def _print_summary(
    result: dict,  # type: ignore[type-arg]
    policy: PolicyIn,
    round_id: int | None,
    result_path: Path | None,
) -> None:
    from rich.table import Table

    stats = result["stats"]
    title = f"Round {round_id}" if round_id is not None else "Round (not stored)"
    out.print(
        f"\n[bold]{title}[/bold] on {policy.round_date} "
        f"(max commute {policy.max_commute_km:g} km, max effort rate {policy.max_effort_rate:.0%})"
    )
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("households waiting", str(stats["households"]))
    table.add_row("vacant units", str(stats["units"]))
    table.add_row("feasible pairs", str(stats["candidate_pairs"]))
    housed = "households with a proposal" if policy.candidates_per_unit > 1 else "households housed"
    table.add_row(housed, f"[bold green]{stats['matched']}[/bold green]")
    table.add_row("units with a candidate", str(stats["units_with_candidates"]))
    table.add_row("unmatched households", str(len(result["unmatched"])))
    table.add_row("total score", f"{stats['objective']} (optimal: {stats['optimal']})")
    table.add_row(
        "passed over for a lower priority",
        f"{stats['passed_over_households']} ({stats['passed_over_urgent']} urgent)",
    )
    table.add_row("time", f"{stats['seconds']['total']:.2f} s")
    out.print(table)

    out.print("\n[bold]Highest-scoring matches[/bold]")
    matches = Table("household", "unit", "score", "breakdown", box=None, padding=(0, 1))
    for match in sorted(result["matches"], key=lambda m: -m["score"])[:5]:
        parts = ", ".join(f"{k} {v}" for k, v in match["score_breakdown"].items() if v)
        matches.add_row(match["household"], match["unit"], str(match["score"]), parts)
    out.print(matches)

    by_kind: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for unmatched in result["unmatched"]:
        by_kind.setdefault(unmatched["detail"].get("kind", "other"), []).append(unmatched)
    no_unit = by_kind.get("no_feasible_unit", [])
    outcompeted = by_kind.get("outcompeted", [])
    out.print(
        f"\n[bold]Unmatched[/bold]: {len(no_unit)} with no feasible unit, "
        f"{len(outcompeted)} whose feasible units all went to others."
        + (" For example:" if result["unmatched"] else "")
    )
    for unmatched in no_unit[:4] + outcompeted[:3]:
        out.print(f"  [bold]{unmatched['household']}[/bold]", highlight=False)
        for reason in unmatched["reasons"][:5]:
            shown = reason if len(reason) <= 150 else reason[:147] + "..."
            out.print(f"    - {shown}", highlight=False, markup=False)
    if result_path is not None:
        out.print(
            f"\nFull result (every match with its score breakdown, every reason): {result_path}"
        )


def run() -> None:
    """The `housing-match` command: the app, with an unreachable database said in one line
    (it was a traceback of about 500 lines from `serve`, `worker` and `db upgrade`)."""
    try:
        app()
    except Exception as error:
        # Only a command that loaded SQLAlchemy can fail this way: do not load it to ask.
        exc = sys.modules.get("sqlalchemy.exc")
        if exc is None or not isinstance(error, exc.OperationalError):
            raise
        orig = error.orig
        reason = str(orig).strip().splitlines()[0] if orig else type(error).__name__
        err.print(f"cannot reach the database: {reason}", highlight=False, markup=False)
        raise SystemExit(1) from None


if __name__ == "__main__":
    run()
