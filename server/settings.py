"""All configuration in one place: the ``OPENNESS_*`` environment variables of product.md, an optional
settings file, and command-line flags on top. Built on demand and injected, never read at import time."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loaders.vocab import DEFAULT_BASE_IRI, STATIC


def default_store_path() -> Path:
    """``./var/store`` inside a checkout (where the README's commands run), else the user's data dir."""
    here = Path.cwd()
    if (here / "pyproject.toml").exists() and (here / "loaders").is_dir():
        return here / "var" / "store"
    return Path(user_data_dir("openness-graph")) / "store"


class Settings(BaseSettings):
    """Settings of one deployment; ``Settings()`` reads the environment and ``openness.env`` if present."""

    model_config = SettingsConfigDict(
        env_prefix="OPENNESS_", env_file="openness.env", env_ignore_empty=True, extra="ignore"
    )

    store: Path = Field(default_factory=default_store_path, description="folder of the embedded Oxigraph store")
    token: str | None = Field(default=None, description="bearer token enabling /update and /store writes")
    query_timeout: float = Field(default=30.0, gt=0, description="seconds before a query is cancelled")
    base_iri: str = Field(default=DEFAULT_BASE_IRI, description="base of the IRIs minted for records")
    sparql_url: str | None = Field(default=None, description="remote SPARQL 1.1 query endpoint")
    update_url: str | None = Field(default=None, description="remote SPARQL 1.1 update endpoint")
    gsp_url: str | None = Field(default=None, description="remote Graph Store Protocol endpoint")
    sparql_user: str | None = None
    sparql_password: str | None = None
    sparql_auth: str = Field(default="digest", description="'basic' or 'digest' auth for the remote store")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="largest request body accepted")
    max_result_rows: int = Field(default=100_000, gt=0, description="rows returned by /sparql at most")
    max_concurrent_queries: int = Field(default=8, gt=0, description="queries run at once before 503")
    query_workers: int = Field(default=4, gt=0, description="worker processes that run /sparql queries (~40 MB "
                               "each; more than the CPUs, so a cheap query rarely waits behind costly ones)")
    long_query_after: float = Field(default=0.25, gt=0, description="CPU seconds after which a running query "
                                    "is 'long': it runs at low CPU priority and its worker is replaced")
    long_queries: int = Field(default=2, ge=0, description="long queries run at once; one more is stopped "
                                                           "with 503 (0: stop every long query)")
    web_workers: int = Field(default=1, gt=0, description="web processes answering HTTP (one per CPU scales "
                             "the request handling; above 1 the embedded store is served read-only)")
    access_log: bool = Field(default=False, description="log every HTTP request (costs ~10% of point-query "
                                                        "throughput; a reverse proxy usually logs them)")
    hf_fetch: bool = Field(default=False, description="let POST /validate?hf=ORG/NAME fetch a model from the "
                           "Hugging Face Hub (off: the server never reaches the Hub)")
    hf_fetch_per_minute: int = Field(default=6, gt=0, description="Hub fetches per client address and minute")
    compact_after: int = Field(default=200_000, ge=0, description="quads a load or an assessment must write "
                               "before the embedded store is compacted at its end (0: never)")
    allowed_hosts: list[str] = Field(default_factory=list, description="hosts LOAD/SERVICE may reach")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS (off if empty)")

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("OPENNESS_BASE_IRI must be an http(s) IRI, e.g. https://example.org/openness/")
        return value if value.endswith("/") else value + "/"

    @property
    def remote(self) -> bool:
        """True when a remote SPARQL 1.1 store replaces the embedded one."""
        return bool(self.sparql_url)

    @property
    def graph_prefixes(self) -> tuple[str, ...]:
        """IRI prefixes of the graphs this product writes (records under OPENNESS_BASE_IRI, the ontology's
        own graphs under its fixed namespace): what a shared remote store counts, lists and dumps as ours."""
        return tuple(dict.fromkeys((self.base_iri, STATIC)))
