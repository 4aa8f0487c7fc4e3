"""Core commands: run, scan, checks, findings, config, db, demo."""

from __future__ import annotations

import errno
import json
import sys
import threading
import uuid
from collections import Counter
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agent.cli.common import (
    check_duration,
    check_listen,
    check_port_free,
    console,
    err_console,
    known_aws_profile,
    listen_error,
    no_nul,
    open_store,
    output_dir,
    output_file,
    resolve_config,
    store_url,
    write_output,
)
from agent.cli.roles import Role, check_scaled, run_scheduler, run_worker
from agent.config import AnySource, Config, json_schema, load_config, secret_problems
from agent.errors import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK, ConfigError, UsageError
from agent.logs import configure_logging
from agent.models import Severity, isoformat, utcnow
from collectors import CollectContext
from collectors.aws.config import AwsSource

if TYPE_CHECKING:  # the pipeline (store, checks, mappings) is imported by the commands that run one
    from agent.cycle import CycleResult

__all__ = ["ScanProgress", "register", "scan_document", "scan_verdict"]

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Store URL (default: config's, else embedded SQLite).")]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ocsf = "ocsf"  # the formats of agent/outputs
    sarif = "sarif"
    junit = "junit"
    csv = "csv"


FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "--output-format", "-f", help="table, json (the scan contract), ocsf, sarif, junit or csv."
    ),
]


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


class _SourceProgress:
    """collectors.Progress of one source: its own bar, advanced by the collector (per account, region
    and service, or per device), and the overall bar's share of it. Collectors may report from
    several threads."""

    def __init__(self, parent: ScanProgress, label: str) -> None:
        self._parent = parent
        self._label = label
        self._task = parent.progress.add_task(f"collecting {label}", total=None)
        self._total = 0
        self._done = 0

    def add_total(self, n: int) -> None:
        with self._parent.lock:
            self._total += n
            self._parent.progress.update(self._task, total=self._total)

    def advance(self, n: int = 1, description: str = "") -> None:
        with self._parent.lock:
            self._done += n
            self._parent.progress.update(
                self._task, completed=self._done, description=f"{self._label}: {description}" if description else None
            )
            if self._total and self._done >= self._total:
                self._parent.progress.update(self._task, description=f"{self._label}: evaluating and storing")

    def finish(self, summary: str) -> None:
        with self._parent.lock:
            total = max(self._total, self._done, 1)
            self._parent.progress.update(
                self._task, total=total, completed=total, description=f"{self._label}: {summary}"
            )
            self._parent.progress.advance(self._parent.overall)


class ScanProgress:
    """The scan's progress on a terminal: one bar for the scan (a step per source, once it is
    collected, evaluated and stored) and one per source, which its collector advances."""

    def __init__(self, progress: Progress, n_sources: int) -> None:
        self.progress = progress
        self.lock = threading.Lock()
        self.overall = progress.add_task("scan: sources done", total=n_sources)

    def source(self, label: str) -> _SourceProgress:
        return _SourceProgress(self, label)


_SEV_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def after_what_they_read(sources: list[AnySource]) -> list[AnySource]:
    """The sources in config order, except that one reading others' stored snapshots (the people
    ledger) comes after them, so it joins what this scan collected."""
    names = {s.name for s in sources}
    return sorted(sources, key=lambda s: bool(set(s.reads_sources(sources)) & (names - {s.name})))


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


def _error_summary(errors: list[dict[str, Any]], limit: int = 3) -> str:
    """The most frequent collection errors: operation and code, with their counts."""
    counts = Counter(
        (f"{e['service']}:{e['operation']}" if e["service"] or e["operation"] else e["resource_type"] or "-", e["code"])
        for e in errors
    )
    parts = [f"{op} {code} ({n})" if n > 1 else f"{op} {code}" for (op, code), n in counts.most_common(limit)]
    more = len(counts) - limit
    return ", ".join(parts) + (f", and {more} more kinds" if more > 0 else "")


def scan_verdict(doc: dict[str, Any], fail_on: str, max_errors: int | None) -> tuple[int, list[str]]:
    """The scan's exit code and what to say on stderr about it. 3: a source failed outright, or its
    collection errors number more than ``max_errors`` (None: no limit); else 1: failing findings at or
    above ``fail_on`` ("never": no gate), naming how many and the worst checks; else 0."""
    lines: list[str] = []
    sources = doc["run"]["sources"]
    failed = [s for s in sources if s["status"] == "failed"]
    for s in failed:
        why = s["errors"][0]["message"] if s["errors"] else "no detail"
        why = why.removeprefix(f"source {s['name']}: ")
        lines.append(f"error: source {s['name']}: collection failed: {why}")
    errors = [e for s in sources if s["status"] != "failed" for e in s["errors"]]
    if errors:
        partial = sorted({f"{s['name']}/{s['account'] or '-'}" for s in sources if s["status"] == "partial"})
        lines.append(
            f"warning: {len(errors)} collection errors (inputs missing) in {', '.join(partial)}: "
            f"{_error_summary(errors)}"
        )
    too_many = max_errors is not None and len(errors) > max_errors
    if too_many:
        lines.append(f"error: {len(errors)} collection errors, more than --max-errors {max_errors}")
    gated: list[dict[str, Any]] = []
    if fail_on != "never":
        threshold = Severity(fail_on).rank
        gated = [f for f in doc["findings"] if f["status"] == "fail" and Severity(f["severity"]).rank >= threshold]
    if gated:
        by_sev = Counter(f["severity"] for f in gated)
        sev_text = ", ".join(f"{n} {sev}" for sev, n in sorted(by_sev.items(), key=lambda kv: -Severity(kv[0]).rank))
        per_check = Counter((f["check_id"], f["severity"]) for f in gated)
        worst = sorted(per_check.items(), key=lambda kv: (-Severity(kv[0][1]).rank, -kv[1], kv[0][0]))[:5]
        worst_text = ", ".join(f"{cid} ({sev}, {n})" for (cid, sev), n in worst)
        more = len(per_check) - len(worst)
        lines.append(
            f"failing: {len(gated)} findings at or above --fail-on {fail_on} ({sev_text}); "
            f"worst checks: {worst_text}" + (f" and {more} more" if more > 0 else "")
        )
    if failed or too_many:
        return EXIT_FAILED, lines
    return (EXIT_FINDINGS if gated else EXIT_OK), lines


def _print_findings_table(doc: dict[str, Any]) -> None:
    rows = [f for f in doc["findings"] if f["status"] in ("fail", "error")]
    rows.sort(key=lambda f: (-Severity(f["severity"]).rank, f["check_id"], f["resource_id"]))
    table = Table(title="Failing and unevaluable findings", show_lines=False)
    for col in ("severity", "status", "check", "account", "region", "resource", "reason"):
        table.add_column(col, overflow="fold")
    for f in rows:
        table.add_row(
            Text(f["severity"], style=_SEV_STYLE[f["severity"]]),
            f["status"],
            f["check_id"],
            f["account"],
            f["region"],
            f["resource_id"],
            f["message"],
        )
    if rows:
        console.print(table)
    counts: dict[str, int] = {}
    for f in doc["findings"]:
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    for s in doc["run"]["sources"]:
        state = s["status"] if not s["errors"] else f"{s['status']} ({len(s['errors'])} inputs missing)"
        console.print(f"source {s['name']} account {s['account'] or '-'}: {state}")
        for e in s["errors"][:10]:
            where = f"{e['service']}:{e['operation']} {e['region']}".strip(" :")
            console.print(
                Text.assemble(("  missing", "yellow"), f" {where + ': ' if where else ''}{e['code']}: {e['message']}")
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
        role: Annotated[
            Role,
            typer.Option(
                "--role",
                help="all: everything in this process (the default); past one machine: scheduler (publishes "
                "one task per account to scale.broker) or worker (collects them); both need PostgreSQL.",
            ),
        ] = Role.all,
        queue: Annotated[
            list[str] | None,
            typer.Option("--queue", help="Worker: only these providers' tasks (repeatable); default: every one."),
        ] = None,
    ) -> None:
        """Run the daemon: collect every source on its schedule, serve /metrics, /healthz, /readyz."""
        from agent.daemon import Daemon

        address = check_listen("--listen", listen) if listen is not None else None
        cfg = resolve_config(config)
        problems = secret_problems(cfg)
        if problems:
            raise ConfigError(problems)
        host, port = address or cfg.listen_host_port
        option = "--listen" if address else f"{config}: listen"
        check_port_free(option, host, port)
        broker = check_scaled(cfg, store_url(db, cfg), role) if role is not Role.all else ""
        configure_logging(cfg.log.level, cfg.log.format)
        from agent.cycle import Pipeline

        store = open_store(db, cfg, write=True)
        pipeline = Pipeline(cfg, store, posture_metrics=role is not Role.worker)
        if role is Role.scheduler:
            raise typer.Exit(run_scheduler(cfg, pipeline, broker, address))
        if role is Role.worker:
            raise typer.Exit(run_worker(cfg, pipeline, broker, address, queue or []))
        try:
            daemon = Daemon(cfg, pipeline, listen=address)
        except OSError as exc:  # taken between the check above and now
            store.close()
            raise UsageError(listen_error(option, host, port, exc)) from None
        raise typer.Exit(daemon.run_forever())

    @app.command()
    def scan(
        provider: Annotated[str | None, typer.Argument(help="Provider to scan without a config (aws).")] = None,
        region: Annotated[list[str] | None, typer.Option("--region", "-r", help="Region (repeatable).")] = None,
        profile: Annotated[str | None, typer.Option(help="AWS profile.")] = None,
        config: ConfigOpt = None,
        source: Annotated[list[str] | None, typer.Option("--source", help="Only these config sources.")] = None,
        db: DbOpt = None,
        fmt: FormatOpt = OutputFormat.table,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result here.")] = None,
        fail_on: Annotated[
            FailOn, typer.Option("--fail-on", help="Exit 1 if failing findings at or above this severity exist.")
        ] = FailOn.never,
        max_errors: Annotated[
            int | None,
            typer.Option(
                "--max-errors",
                min=0,
                help="Exit 3 if the collection errors (inputs that could not be read) number more than this; "
                "default: no limit. A source that fails outright always exits 3.",
            ),
        ] = None,
    ) -> None:
        """Collect, evaluate and store once, then print the findings. Exit 0 done, 1 failing findings at
        or above --fail-on, 2 bad input, 3 collection failed (or more errors than --max-errors)."""
        if output is not None:
            output_file("--output", output)
        if profile is not None:
            no_nul("--profile", profile)
            known_aws_profile("--profile", profile)
        cfg = resolve_config(config)
        if config is None:
            if provider != "aws":
                raise UsageError("give a provider (`scan aws`) or --config FILE")
            if source:
                raise UsageError("--source picks sources of a config file: give --config FILE too")
            try:
                src = AwsSource(name="aws", provider="aws", regions=region or None, profile=profile)
            except Exception as exc:
                raise UsageError(f"--region: {str(exc).splitlines()[-1].strip()}") from None
            sources: list[AnySource] = [src]
        else:
            if region or profile:
                raise UsageError("--region and --profile apply to `scan aws`; a config's sources set their own")
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
        sources = after_what_they_read(sources)
        url = store_url(db, cfg if config else None)
        configure_logging("warning", "text")
        started = utcnow()
        results: list[CycleResult] = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=not err_console.is_terminal,
            transient=True,
        ) as progress:
            scan_progress = ScanProgress(progress, len(sources))
            bars = [scan_progress.source(each.name) for each in sources]
            contexts = [CollectContext(progress=bar) for bar in bars]
            # the collections start now, in child processes, while this one opens the store and
            # builds the pipeline (agent/stages/collect_early.py)
            from agent.registry import load_collectors
            from agent.stages.collect_early import EarlyCollections

            timeout = cfg.collection_timeout.total_seconds()
            with EarlyCollections(sources, contexts, load_collectors(), timeout=timeout) as early:
                from agent.cycle import Pipeline

                store = open_store(url, None, write=True)
                try:
                    # a scan serves no /metrics: no posture gauges recomputed from the store after it
                    pipeline = Pipeline(cfg, store, posture_metrics=False)
                    for each, ctx, bar in zip(sources, contexts, bars, strict=True):
                        res = pipeline.run_cycle(each, ctx, early=early.get(each))
                        results.append(res)
                        failing = sum(f.status.value == "fail" for f in res.findings)
                        bar.finish("failed" if res.error else f"{len(res.snapshots)} accounts, {failing} failing")
                finally:
                    store.close()
        doc = scan_document(uuid.uuid4().hex, started, utcnow(), results)
        if fmt not in (OutputFormat.table, OutputFormat.json):
            from agent.outputs import emit, render_scan

            emit(render_scan(fmt.value, doc), output)
        elif fmt == OutputFormat.json or output is not None:
            write_output(doc, output)
            if output is not None and fmt == OutputFormat.table:
                _print_findings_table(doc)
        else:
            _print_findings_table(doc)
        code, lines = scan_verdict(doc, fail_on.value, max_errors)
        for line in lines:
            typer.echo(line, err=True)
        if code != EXIT_OK:
            raise typer.Exit(code)

    @checks_app.command("list")
    def checks_list(
        provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
        fmt: Annotated[
            CatalogFormat, typer.Option("--format", "-f", help="markdown: the catalog as in docs/checks.md")
        ] = CatalogFormat.table,
    ) -> None:
        """List every check with its severity, resource type and the controls it maps to."""
        from agent.mappings import load_mappings
        from agent.registry import load_checks, provider_names

        if provider is not None and provider not in provider_names():
            raise UsageError(f"--provider: unknown provider {provider!r}; choose from {', '.join(provider_names())}")

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
        fmt: FormatOpt = OutputFormat.table,
        output: Annotated[
            Path | None,
            typer.Option(
                "--output", "-o", help="Write the findings here (the table format writes JSON, as scan does)."
            ),
        ] = None,
    ) -> None:
        """The current state of every finding (latest evaluation per source and account)."""
        if output is not None:
            output_file("--output", output)
        from agent.mappings import load_mappings
        from agent.models import Status
        from agent.registry import load_checks

        statuses = [s.value for s in Status]
        bad = [s for s in status or () if s not in statuses]
        if bad:
            raise UsageError(f"--status: unknown status {bad[0]!r}; choose from {', '.join(statuses)}")
        known = load_checks()
        unknown = [c for c in check or () if c not in known]
        if unknown:
            raise UsageError(f"--check: no check {unknown[0]!r} (see `posture-agent checks list`)")
        ref = None
        if control is not None:
            req = load_mappings().requirement(control)
            if req is None:
                raise UsageError(f"--control: unknown requirement {control!r} (e.g. SOC2:CC6.1)")
            ref = req.ref
        cfg = resolve_config(config)
        store = open_store(db, cfg if config else None)
        try:
            rows = store.current_findings(status=status or (), check=check or (), account=account or ())
        finally:
            store.close()
        pipeline_tags = _tags(cfg)
        if ref:
            rows = [r for r in rows if ref in pipeline_tags.get(r["check_id"], ())]
        for r in rows:
            r["controls"] = list(pipeline_tags.get(r["check_id"], ()))
        if fmt == OutputFormat.json or (output is not None and fmt == OutputFormat.table):
            write_output(rows, output)
            if fmt == OutputFormat.json:
                return
        if fmt != OutputFormat.table:
            from agent.outputs import emit, render_findings

            emit(render_findings(fmt.value, rows, utcnow()), output)
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
        no_nul("PATH", str(path))
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
        store = open_store(db, cfg if config else None, write=True)
        try:
            console.print(f"{store!r}: at revision {store.revision()}")
        finally:
            store.close()

    @app.command()
    def demo(
        interval: Annotated[str, typer.Option(help="Collection interval.")] = "30s",
        drift_every: Annotated[str, typer.Option(help="How often the demo changes its cloud.")] = "120s",
        listen: Annotated[str, typer.Option(help="HOST:PORT for /metrics.")] = "127.0.0.1:9464",
        data_dir: Annotated[Path | None, typer.Option(help="Where the demo keeps its SQLite store.")] = None,
    ) -> None:
        """Start a fake AWS organisation (moto) and run the agent against it, with drift."""
        check_duration("--interval", interval, minimum=timedelta(seconds=5), maximum=timedelta(days=1))
        check_duration("--drift-every", drift_every, minimum=timedelta(seconds=5), maximum=timedelta(days=1))
        host, port = check_listen("--listen", listen)
        if data_dir is not None:
            output_dir("--data-dir", data_dir)
        try:  # the demo is a distribution of its own (deploy/demo), not part of the agent's wheel
            from posture_demo.run import run_demo
        except ModuleNotFoundError as exc:
            top = (exc.name or "").partition(".")[0]
            missing = "the demo is not installed" if top == "posture_demo" else f"the demo needs {exc.name!r}"
            raise UsageError(f"{missing}; install it with: pip install 'posture-agent[demo]'") from None

        check_port_free("--listen", host, port)
        try:
            code = run_demo(interval=interval, drift_every=drift_every, listen=listen, data_dir=data_dir)
        except OSError as exc:
            # the demo's daemon could not listen (taken since the check above); the demo's own code
            # (deploy/demo) raises it after starting its fake clouds, whose threads end with the process
            if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
                raise UsageError(listen_error("--listen", host, port, exc)) from None
            raise
        raise typer.Exit(code)


def _tags(cfg: Config) -> dict[str, tuple[str, ...]]:
    from agent.mappings import load_mappings
    from agent.registry import load_checks

    m = load_mappings()
    fw, cats = tuple(cfg.scope.frameworks), tuple(cfg.scope.soc2_categories)
    return {cid: m.tags_for(cid, fw, cats) for cid in load_checks()}
