"""Core commands: run, scan, checks, findings, config, db, demo."""

from __future__ import annotations

import json
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agent.cli.common import console, err_console, open_store, resolve_config, write_output
from agent.config import AnySource, Config, json_schema, load_config, secret_problems
from agent.cycle import CycleResult, Pipeline
from agent.errors import ConfigError, UsageError
from agent.logs import configure_logging
from agent.models import Severity, isoformat, utcnow
from collectors import CollectContext
from collectors.aws.config import AwsSource

__all__ = ["register", "scan_document"]

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Store URL (default: config's, else embedded SQLite).")]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class CatalogFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class FailOn(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    never = "never"


class _RichProgress:
    """collectors.Progress over a rich progress bar."""

    def __init__(self, progress: Progress, label: str) -> None:
        self._p = progress
        self._task = progress.add_task(label, total=0)

    def add_total(self, n: int) -> None:
        total = self._p.tasks[self._task].total or 0
        self._p.update(self._task, total=total + n)

    def advance(self, n: int = 1, description: str = "") -> None:
        self._p.advance(self._task, n)
        if description:
            self._p.update(self._task, description=description)


_SEV_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def scan_document(scan_id: str, started: Any, finished: Any, results: list[CycleResult]) -> dict[str, Any]:
    """The stable scan JSON contract (docs/scan-output.schema.json)."""
    sources = []
    findings = []
    for res in results:
        for snap in res.snapshots:
            sources.append(
                {
                    "name": snap.source,
                    "provider": snap.provider,
                    "account": snap.account,
                    "status": snap.status,
                    "run_id": res.run.id,
                    "errors": [e.to_dict() for e in snap.errors],
                }
            )
        if res.error:
            sources.append(
                {
                    "name": res.run.source,
                    "provider": res.run.provider,
                    "account": "",
                    "status": "failed",
                    "run_id": res.run.id,
                    "errors": [
                        {
                            "service": "",
                            "operation": "",
                            "region": "",
                            "code": "RunFailed",
                            "message": res.error,
                            "resource_type": "",
                        }
                    ],
                }
            )
        for f in res.findings:
            findings.append(
                {
                    "check_id": f.check_id,
                    "resource_id": f.resource_id,
                    "resource_type": f.resource_type,
                    "provider": f.provider,
                    "account": f.account,
                    "region": f.region,
                    "status": f.status.value,
                    "severity": f.severity.value,
                    "controls": list(f.requirements),
                    "message": f.message,
                    "uid": f.uid,
                }
            )
    return {
        "run": {
            "id": scan_id,
            "started_at": isoformat(started),
            "finished_at": isoformat(finished),
            "sources": sources,
        },
        "findings": findings,
    }


def _print_findings_table(doc: dict[str, Any]) -> None:
    rows = [f for f in doc["findings"] if f["status"] in ("fail", "error")]
    rows.sort(key=lambda f: (-Severity(f["severity"]).rank, f["check_id"], f["resource_id"]))
    table = Table(title="Failing and unevaluable findings", show_lines=False)
    for col in ("severity", "status", "check", "account", "region", "resource", "reason"):
        table.add_column(col, overflow="fold")
    for f in rows:
        table.add_row(
            f"[{_SEV_STYLE[f['severity']]}]{f['severity']}[/]",
            f["status"],
            f["check_id"],
            f["account"],
            f["region"],
            f["resource_id"],
            f["message"],
        )
    console.print(table)
    counts: dict[str, int] = {}
    for f in doc["findings"]:
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    for s in doc["run"]["sources"]:
        state = s["status"] if not s["errors"] else f"{s['status']} ({len(s['errors'])} inputs missing)"
        console.print(f"source {s['name']} account {s['account'] or '-'}: {state}")
        for e in s["errors"][:10]:
            console.print(
                f"  [yellow]missing[/] {e['service']}:{e['operation']} {e['region']}: {e['code']}: {e['message']}"
            )
    console.print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no findings")


def register(app: typer.Typer) -> None:  # noqa: C901 - one place that lists the core commands
    config_app = typer.Typer(help="Validate the configuration or print its JSON Schema.", no_args_is_help=True)
    db_app = typer.Typer(help="Manage the evidence store.", no_args_is_help=True)
    checks_app = typer.Typer(help="The check catalog.", no_args_is_help=True)
    app.add_typer(config_app, name="config")
    app.add_typer(db_app, name="db")
    app.add_typer(checks_app, name="checks")

    @app.command()
    def run(
        config: Annotated[Path, typer.Option("--config", "-c", help="Config file (YAML).", envvar="POSTURE_CONFIG")],
        db: DbOpt = None,
        listen: Annotated[str | None, typer.Option(help="Override HOST:PORT of the HTTP port.")] = None,
    ) -> None:
        """Run the daemon: collect every source on its schedule, serve /metrics, /healthz, /readyz."""
        from agent.daemon import Daemon

        cfg = load_config(config)
        problems = secret_problems(cfg)
        if problems:
            raise ConfigError(problems)
        configure_logging(cfg.log.level, cfg.log.format)
        store = open_store(db, cfg)
        pipeline = Pipeline(cfg, store)
        address = None
        if listen:
            host, _, port = listen.rpartition(":")
            address = (host or "127.0.0.1", int(port))
        raise typer.Exit(Daemon(cfg, pipeline, listen=address).run_forever())

    @app.command()
    def scan(
        provider: Annotated[str | None, typer.Argument(help="Provider to scan without a config (aws).")] = None,
        region: Annotated[list[str] | None, typer.Option("--region", "-r", help="Region (repeatable).")] = None,
        profile: Annotated[str | None, typer.Option(help="AWS profile.")] = None,
        config: ConfigOpt = None,
        source: Annotated[list[str] | None, typer.Option("--source", help="Only these config sources.")] = None,
        db: DbOpt = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result here.")] = None,
        fail_on: Annotated[
            FailOn, typer.Option("--fail-on", help="Exit 1 if failing findings at or above this severity exist.")
        ] = FailOn.never,
    ) -> None:
        """Collect, evaluate and store once, then print the findings."""
        cfg = resolve_config(config)
        if config is None:
            if provider != "aws":
                raise UsageError("give a provider (`scan aws`) or --config FILE")
            try:
                src = AwsSource(name="aws", provider="aws", regions=region or None, profile=profile)
            except Exception as exc:
                raise UsageError(f"--region: {str(exc).splitlines()[-1].strip()}") from None
            sources: list[AnySource] = [src]
        else:
            sources = [
                s
                for s in cfg.sources
                if (not source or s.name in source) and (provider is None or s.provider == provider)
            ]
            unknown = set(source or ()) - {s.name for s in cfg.sources}
            if unknown:
                raise UsageError(f"--source: no source named {sorted(unknown)[0]!r} in {config}")
            if not sources:
                raise UsageError(f"no sources to scan in {config}")
        configure_logging("warning", "text")
        store = open_store(db, cfg if config else None)
        pipeline = Pipeline(cfg, store)
        started = utcnow()
        results: list[CycleResult] = []
        show = sys.stderr.isatty()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=not show,
            transient=True,
        ) as progress:
            for each in sources:
                ctx = CollectContext(progress=_RichProgress(progress, f"collecting {each.name}"))
                results.append(pipeline.run_cycle(each, ctx))
        doc = scan_document(uuid.uuid4().hex, started, utcnow(), results)
        if fmt == OutputFormat.json or output is not None:
            write_output(doc, output)
            if output is not None and fmt == OutputFormat.table:
                _print_findings_table(doc)
        else:
            _print_findings_table(doc)
        if fail_on != FailOn.never:
            threshold = Severity(fail_on.value).rank
            if any(f["status"] == "fail" and Severity(f["severity"]).rank >= threshold for f in doc["findings"]):
                raise typer.Exit(1)

    @checks_app.command("list")
    def checks_list(
        provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
        fmt: Annotated[
            CatalogFormat, typer.Option("--format", "-f", help="markdown: the catalog as in docs/checks.md")
        ] = CatalogFormat.table,
    ) -> None:
        """List every check with its severity, resource type and the controls it maps to."""
        from agent.mappings import load_mappings
        from agent.registry import load_checks

        checks = [c for c in load_checks().values() if provider is None or c.meta.provider == provider]
        mappings = load_mappings()
        if fmt == CatalogFormat.markdown:
            from agent.catalog_doc import catalog_markdown

            sys.stdout.write(catalog_markdown(checks, mappings))
            return
        rows = [{**c.meta.to_dict(), "controls": list(mappings.tags_for(c.id))} for c in checks]
        if fmt == CatalogFormat.json:
            write_output(rows, None)
            return
        table = Table(title=f"{len(rows)} checks")
        for col in ("id", "severity", "resource type", "title", "SOC 2"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                r["id"],
                r["severity"],
                r["resource_type"],
                r["title"],
                " ".join(t.split(":", 1)[1] for t in r["controls"] if t.startswith("SOC2:")),
            )
        console.print(table)

    @app.command()
    def findings(
        status: Annotated[list[str] | None, typer.Option("--status", "-s", help="pass, fail, error...")] = None,
        check: Annotated[list[str] | None, typer.Option("--check", help="Check id (repeatable).")] = None,
        control: Annotated[str | None, typer.Option("--control", help="Requirement, e.g. SOC2:CC6.1.")] = None,
        account: Annotated[list[str] | None, typer.Option("--account")] = None,
        config: ConfigOpt = None,
        db: DbOpt = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    ) -> None:
        """The current state of every finding (latest evaluation per source and account)."""
        cfg = resolve_config(config)
        store = open_store(db, cfg if config else None)
        pipeline_tags = _tags(cfg)
        rows = store.current_findings(status=status or (), check=check or (), account=account or ())
        if control:
            rows = [r for r in rows if control in pipeline_tags.get(r["check_id"], ())]
        for r in rows:
            r["controls"] = list(pipeline_tags.get(r["check_id"], ()))
        if fmt == OutputFormat.json:
            write_output(rows, None)
            return
        table = Table(title=f"{len(rows)} findings")
        for col in ("status", "severity", "check", "account", "region", "resource", "since", "reason"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                r["status"],
                r["severity"],
                r["check_id"],
                r["account"],
                r["region"],
                r["resource_id"],
                isoformat(r["since"]),
                r["message"],
            )
        console.print(table)

    @config_app.command("validate")
    def config_validate(path: Annotated[Path, typer.Argument(help="Config file to check.")]) -> None:
        """Check a config file; print every problem as one line (exit 2 if any)."""
        cfg = load_config(path)
        problems = secret_problems(cfg)
        if problems:
            raise ConfigError([type(p)(key=p.key, message=p.message, file=str(path)) for p in problems])
        console.print(f"{path}: valid ({len(cfg.sources)} sources, frameworks: {', '.join(cfg.scope.frameworks)})")

    @config_app.command("schema")
    def config_schema() -> None:
        """Print the JSON Schema of the config file (for editor completion)."""
        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")

    @db_app.command("upgrade")
    def db_upgrade(config: ConfigOpt = None, db: DbOpt = None) -> None:
        """Apply pending migrations to the store."""
        cfg = resolve_config(config)
        store = open_store(db, cfg if config else None, upgrade=False)
        console.print(f"{store!r}: at revision {store.upgrade()}")

    @app.command()
    def demo(
        interval: Annotated[str, typer.Option(help="Collection interval.")] = "30s",
        drift_every: Annotated[str, typer.Option(help="How often the demo changes its cloud.")] = "120s",
        listen: Annotated[str, typer.Option(help="HOST:PORT for /metrics.")] = "127.0.0.1:9464",
        data_dir: Annotated[Path | None, typer.Option(help="Where the demo keeps its SQLite store.")] = None,
    ) -> None:
        """Start a fake AWS organisation (moto) and run the agent against it, with drift."""
        try:  # the demo is a distribution of its own (deploy/demo), not part of the agent's wheel
            from posture_demo.run import run_demo
        except ModuleNotFoundError as exc:
            top = (exc.name or "").partition(".")[0]
            missing = "the demo is not installed" if top == "posture_demo" else f"the demo needs {exc.name!r}"
            raise UsageError(f"{missing}; install it with: pip install 'posture-agent[demo]'") from None

        raise typer.Exit(run_demo(interval=interval, drift_every=drift_every, listen=listen, data_dir=data_dir))


def _tags(cfg: Config) -> dict[str, tuple[str, ...]]:
    from agent.mappings import load_mappings
    from agent.registry import load_checks

    m = load_mappings()
    fw, cats = tuple(cfg.scope.frameworks), tuple(cfg.scope.soc2_categories)
    return {cid: m.tags_for(cid, fw, cats) for cid in load_checks()}
