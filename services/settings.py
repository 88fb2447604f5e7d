"""Configuration from the environment (prefix HOUSING_MATCH_ or the bare DATABASE_URL)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


class GeocoderKind(StrEnum):
    OFFLINE = "offline"  # the shipped gazetteer: commune-level, no network
    BAN = "ban"  # geopy BANFrance: French national address base (network or a local addok)
    NOMINATIM = "nominatim"  # geopy Nominatim (OpenStreetMap; mind its usage policy)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOUSING_MATCH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///housing-match.sqlite3",
        validation_alias=AliasChoices("DATABASE_URL", "HOUSING_MATCH_DATABASE_URL"),
    )
    geocoder: GeocoderKind = GeocoderKind.OFFLINE
    gazetteer_path: Path = FIXTURES_DIR / "gazetteer_63.csv"
    geocoder_domain: str | None = None  # e.g. a local addok for BAN
    geocoder_user_agent: str = "housing-match"
    fixtures_dir: Path = FIXTURES_DIR
    household_response_days: int = 10  # a household answers a proposal within this
    commission_response_days: int = 30  # a commission decides within this, once accepted
    stalled_within_days: int = 3  # "stalled" lists proposals due within this many days
    run_worker: bool = True  # `serve` also solves queued rounds in a background thread
    max_request_bytes: int = 1_048_576  # a request body over this is refused (413)
    max_import_bytes: int = 10_485_760  # the same for the import routes, which take files
    failed_authentications_per_minute: int = 30  # per client address, then 429
    retention_days: int | None = 730  # closed cases are erased after this; None: kept
    round_stale_after_s: float = 60.0  # a running round whose worker is silent this long fails
    expensive_requests_per_minute: int = 20  # rounds, imports, publishing, per key, then 429
    # Requests a serve process works on at once; the others wait their turn (api/limits.py).
    # Python runs one thread at a time: 4 overlap their database waits, more only share the
    # CPU and lengthen every request (a page at 500/s, 2 processes: p50 11-12 ms and p99
    # 46-48 ms with 8, 7 ms and 36 ms with 4).
    concurrent_requests: int = Field(default=4, ge=1, le=100)
    # Long requests (imports, publications, a round's result, report or export) take turns
    # of their own, so that they never hold all of the above.
    concurrent_long_requests: int = Field(default=2, ge=1, le=100)
    # A key is looked up in the database at most this often by each serve process, so a key
    # revoked on the command line or by another process still works this long (0: never
    # kept; services/access.py KeyCache).
    key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
