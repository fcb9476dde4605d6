"""Project CLI: Kedro's own commands, with a ``run`` that also accepts ``key:value`` params
and selects training nodes by ``model``, and ``kedro manifest verify``, which checks a run
manifest against the files.

``kedro run --pipeline=train --params mode:binary,model:3dcnn`` is the form this project's
users type; stock Kedro only accepts ``key=value``. Both forms are accepted here, with dotted
keys for nested parameters and values typed exactly as Kedro types them (YAML rules: ``3`` is
an int, ``0.5`` a float, ``true`` a boolean). ``model`` (from ``--params`` or the
configuration) becomes the list of nodes to run, before the session starts: every node of the
requested pipelines but the training nodes of the architectures it does not select. Every
other option of ``kedro run`` is Kedro's.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.validation import ParameterValidationError
from omegaconf import OmegaConf

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.parameters import WHERE

PARAMS_HELP = """Extra parameters, overriding conf/. Items are separated by commas; each is
`key:value` or `key=value`, with dotted keys for nested parameters. Example:
--params mode:binary,model:3dcnn,training.epochs:3"""

_USAGE = (
    "each item must be `key:value` or `key=value` "
    "(e.g. `--params mode:binary,model:3dcnn` or `--params mode=binary,training.epochs=3`)"
)


def _items(value: str) -> list[str]:
    """Split at commas that are not inside ``[...]`` or ``{...}`` (so lists stay whole)."""
    items, depth, current = [], 0, []
    for char in value:
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    return [*items, "".join(current)]


def split_params(ctx: click.Context, param: click.Parameter, value: Any) -> dict[str, Any]:
    """Parse ``--params`` items in either ``key:value`` or ``key=value`` form.

    Each item is split at its first ``:`` or ``=`` (keys cannot contain either; values may),
    then parsed the way Kedro parses ``key=value`` (``OmegaConf.from_dotlist``), so types
    and nesting match Kedro exactly. A list value keeps its commas: ``margin_frames:[1,2]``.
    """
    if isinstance(value, dict):
        return value
    normalised = []
    for item in (part.strip() for part in _items(str(value or ""))):
        if not item:
            continue
        positions = [i for i in (item.find(":"), item.find("=")) if i != -1]
        if not positions:
            raise click.BadParameter(f"item `{item}` has no value: {_USAGE}.", ctx, param)
        cut = min(positions)
        key, val = item[:cut].strip(), item[cut + 1 :]
        if not key:
            raise click.BadParameter(f"item `{item}` has an empty key: {_USAGE}.", ctx, param)
        normalised.append(f"{key}={val}")
    return OmegaConf.to_container(OmegaConf.from_dotlist(normalised))


def _configured_model(
    env: str | None, conf_source: str | None, params: dict[str, Any], pipelines: list[str]
) -> str:
    """The ``model`` parameter this run will have (``--params`` over the configuration); a
    run of the ``megc2019`` pipeline alone defaults to ``megc2019.model``."""
    if "model" in params:
        return str(params["model"])
    from kedro.framework.project import settings
    from kedro.utils import find_kedro_project

    project = find_kedro_project(Path.cwd()) or Path.cwd()
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=conf_source or str(project / settings.CONF_SOURCE),
        env=env,
        runtime_params=params,
        **settings.CONFIG_LOADER_ARGS,
    )
    parameters = loader["parameters"]
    if pipelines == ["megc2019"]:
        return str((parameters.get("megc2019") or {}).get("model", "flow"))
    return str(parameters.get("model", "all"))


def selected_nodes(
    model: str, pipeline_names: list[str], requested: list[str] | None = None
) -> list[str] | None:
    """The nodes to run for ``model``: those of the pipelines (of ``requested``, when given)
    but the nodes that serve only architectures it does not select (a node tagged with
    architectures runs if one of them is selected); None when that drops nothing."""
    from kedro.framework.project import pipelines
    from kedro.pipeline import Pipeline

    from microexpression_pipeline.models import ARCHITECTURES, selected

    every = {a.tag for a in ARCHITECTURES.values()}
    keep = {a.tag for a in selected(model)}
    drop = every - keep
    if not drop:
        return None
    names = pipeline_names or ["__default__"]
    combined = sum((pipelines[name] for name in names if name in pipelines), Pipeline([]))
    kept = [
        node.name
        for node in combined.nodes
        if (not node.tags & every or node.tags & keep) and (not requested or node.name in requested)
    ]
    if not kept:
        raise click.UsageError(
            f"model={model!r} leaves none of the requested nodes to run "
            f"({', '.join(requested or [n.name for n in combined.nodes])}); use "
            "--params model:all or name other nodes."
        )
    return kept


def _readable(error: ParameterValidationError) -> str:
    """Kedro's validation message as one line per invalid parameter."""
    lines = [
        re.sub(r"^- Parameter '[^']*': ", "", line)
        for line in str(error).splitlines()
        if line.strip() and not line.startswith("Parameter validation failed")
    ]
    return f"Invalid parameters ({WHERE}):\n" + "\n".join(
        f"  {line if line.startswith('- ') else '- ' + line}" for line in lines
    )


def input_error(exc: BaseException) -> InputError | None:
    """The user error (``InputError``) ``exc`` is or was caused by, if any (an input dataset
    with no saved version is one: it names the pipeline that makes it)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, InputError):
            return current
        if missing := _missing_input(current):
            return missing
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _missing_input(error: BaseException) -> InputError | None:
    """``<dataset>: Did not find any versions for ...`` as the run that makes the dataset."""
    found = re.match(
        r"([\w.\-]+): Did not find any versions for .*?filepath=\S*?'([^']+)'",
        str(error).replace("\n", ""),
    )
    if not found:
        return None
    import microexpression_pipeline.pipelines as package

    name, path = found.groups()
    # Every pipeline package (Kedro's registry holds only the pipelines this run asked for).
    makers = [
        module.name
        for module in pkgutil.iter_modules(package.__path__)
        if name
        in importlib.import_module(f"{package.__name__}.{module.name}")
        .create_pipeline()
        .all_outputs()
    ]
    run = f"`kedro run --pipeline={makers[0]}`" if makers else "the run that makes it"
    return InputError(
        f"{name}: no saved version yet ({_shown(path)}). Make it first with {run} and the same "
        "--params (e.g. mode), or pin a saved version with --load-versions."
    )


def _shown(path: str) -> str:
    """``path`` relative to the current folder when it is under it."""
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path


def _failed_manifest(env: str | None, error: BaseException, since: datetime) -> str | None:
    """The manifest holding ``error``'s traceback, if this run (started at ``since`` or
    later) saved one: it does not when the error came before the pipeline started."""
    import json

    import fsspec
    from kedro.utils import find_kedro_project

    try:
        path = _latest_manifest(find_kedro_project(Path.cwd()) or Path.cwd(), env)
        with fsspec.open(path, "r") as handle:
            content = json.load(handle)
        started = datetime.fromisoformat(content["started_at"])
    except Exception:  # only a hint: never let it hide the user's error
        return None
    ours = started >= since.replace(microsecond=0) and content.get("status") == "failed"
    same = content.get("error") == f"{type(error).__name__}: {error}"
    return _shown(path) if ours and same and content.get("traceback") else None


def _user_error_exit(
    error: InputError, raised: BaseException, env: str | None, since: datetime
) -> click.ClickException:
    """The one message ``kedro run`` ends with for ``error``, and where its traceback is."""
    manifest = _failed_manifest(env, raised, since)
    where = (
        f'Its traceback is in {manifest} ("traceback"); add --verbose to see it here'
        if manifest
        else "Add --verbose to see its traceback"
    )
    return click.ClickException(f"{error}\n({where}.)")


VERBOSE = click.Option(
    ["--verbose"],
    is_flag=True,
    default=False,
    help="On an error in the input (a path, a data file, a parameter), show the traceback "
    "too; without it only the message is shown (the run manifest keeps the traceback).",
)


def _project_run_command() -> click.Command:
    """Kedro's ``run`` command with the ``--params`` parser replaced, ``model`` turned into
    the nodes to run, and a user error ended by its message alone (``--verbose``: with its
    traceback)."""
    command = copy.copy(kedro_run)
    params = []
    for option in kedro_run.params:
        if option.name == "params":
            option = copy.copy(option)
            option.callback = split_params
            option.help = PARAMS_HELP
        params.append(option)
    command.params = [*params, VERBOSE]
    original = kedro_run.callback

    def callback(*args: Any, verbose: bool = False, **kwargs: Any) -> Any:
        since = datetime.now(UTC)
        try:
            names = kwargs["pipelines"] or ([kwargs["pipeline"]] if kwargs["pipeline"] else [])
            model = _configured_model(
                kwargs["env"], kwargs["conf_source"], kwargs["params"], list(names)
            )
            if list(names) == ["megc2019"]:  # its default model is the run's model
                kwargs["params"] = {**kwargs["params"], "model": model}
            nodes = selected_nodes(model, list(names), list(kwargs["node_names"]) or None)
            if nodes is not None:
                kwargs["node_names"] = nodes
            with warnings.catch_warnings():
                # `--pipeline` is the form this project documents; Kedro 1.7 deprecates it
                # in favour of `--pipelines`, which works the same.
                warnings.filterwarnings("ignore", "Option '--pipeline' is deprecated")
                return original(*args, **kwargs)
        except ParameterValidationError as exc:
            raise click.UsageError(_readable(exc)) from exc
        except click.ClickException:
            raise
        except Exception as exc:
            error = input_error(exc)
            if error is None or verbose:
                raise
            raise _user_error_exit(error, exc, kwargs["env"], since) from exc

    command.callback = callback
    return command


@click.group(name="microexpression-pipeline")
def cli() -> None:
    """Commands of the microexpression-pipeline project."""


cli.add_command(_project_run_command(), "run")


@cli.group(name="manifest")
def manifest_group() -> None:
    """Run manifests: what each run loaded and saved, with SHA-256 of every file."""


def _latest_manifest(project_path: Path, env: str | None) -> str:
    """The newest ``run_manifest`` version under the configured data root."""
    from kedro.framework.project import settings
    from kedro.io import DataCatalog

    from microexpression_pipeline.handoffs.manifest import MANIFEST_DATASET, located

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE),
        env=env,
        **settings.CONFIG_LOADER_ARGS,
    )
    config = dict(loader["catalog"][MANIFEST_DATASET])
    config["filepath"] = located(str(config["filepath"]), project_path)
    dataset = DataCatalog.from_config({MANIFEST_DATASET: config}).get(MANIFEST_DATASET)
    try:
        path = dataset._get_load_path().as_posix()
    except Exception as exc:
        raise click.ClickException(
            f"No run manifest under {config['filepath']}: run the pipeline first, or name "
            "a manifest file."
        ) from exc
    return path if dataset._protocol == "file" else f"{dataset._protocol}://{path}"


@manifest_group.command(name="verify")
@click.argument("manifest", required=False)
@click.option("--env", "-e", default=None, help="Kedro environment (for the data root).")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder the manifest's relative paths start from (default: this project).",
)
def verify(manifest: str | None, env: str | None, root: Path | None) -> None:
    """Check MANIFEST (default: the latest run's) against the files it lists.

    Reports every file that is missing, changed, truncated, or extra (in a version folder
    the run wrote, but not written by it). Exits with status 1 if there is any.
    """
    import json

    import fsspec

    from microexpression_pipeline.handoffs.manifest import verify_manifest

    project_path = Path.cwd()
    path = manifest or _latest_manifest(project_path, env)
    try:
        with fsspec.open(path, "r") as handle:
            content = json.load(handle)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"Cannot read the manifest {path}: {exc}") from exc
    findings, checked = verify_manifest(content, root or project_path)
    click.echo(
        f"Manifest {path}: run {content.get('kedro_session_id')} "
        f"({content.get('status')}), {len(content.get('datasets', {}))} datasets, "
        f"{checked} files."
    )
    for finding in findings:
        click.echo(str(finding))
    if findings:
        raise click.ClickException(
            f"{len(findings)} problem(s): this data is not what the run recorded. Do not use "
            "it; get an intact copy from whoever produced it."
        )
    click.echo(f"OK: all {checked} files match the manifest; no extra files.")
