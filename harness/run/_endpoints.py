"""Pre-flight check of model endpoints, so an unreachable server is one clear error, not endless retries.

Every plan connects once to each server the run names (:func:`check_endpoints`, a TCP connect). `theraeval validate
--check-endpoints` also asks each one a cheap question, `GET <base_url>/models` with the provider's key from the
environment, so a wrong path or a refused key shows before a run spends anything (:func:`probe_endpoints`).
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from harness.core import InputError
from harness.inputs import BUILTIN_SMOLLM2, ModelSpec, RunConfig


def endpoint_url(spec: ModelSpec) -> tuple[str, str] | None:
    """(where it was set, URL) of a spec's server, if it names one: `base_url`, or the provider's env variable."""
    if spec.base_url:
        return "base_url", spec.base_url
    parts = spec.model.split("/")
    if parts[0] == "openai-api" and len(parts) >= 3:
        var = f"{parts[1].upper().replace('-', '_')}_BASE_URL"
    elif parts[0] == "vllm":
        var = "VLLM_BASE_URL"
    else:
        return None
    return (f"${var}", os.environ[var]) if os.environ.get(var) else None


def _reachable(url: str, timeout: float) -> str:
    u = urlparse(url)
    if not u.hostname:
        return "not a URL with a host"
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        with socket.create_connection((u.hostname, port), timeout=timeout):
            return ""
    except OSError as e:
        return f"unreachable ({e.strerror or type(e).__name__})"


def known_providers() -> set[str]:
    """Names of the model providers inspect knows, including plug-ins registered through entry points."""
    from inspect_ai._util.entrypoints import ensure_entry_points
    from inspect_ai._util.registry import registry_find, registry_unqualified_name

    ensure_entry_points()
    return {registry_unqualified_name(info) for info in registry_find(lambda i: i.type == "modelapi")}


def _check_provider(spec: ModelSpec, field: str, config_path: Path, providers: set[str]) -> None:
    provider = spec.model.split("/")[0]
    if spec.model != BUILTIN_SMOLLM2 and provider not in providers:
        raise InputError(config_path, f"{field}.model", spec.model, f"unknown model provider {provider!r}",
                         f"use builtin/smollm2 or one of inspect's providers: {', '.join(sorted(providers)[:12])}, ...")


def model_specs(cfg: RunConfig) -> list[tuple[str, ModelSpec]]:
    """(config field, spec) of every model the run calls: model candidates, an LLM judge, a multi-turn patient."""
    specs: list[tuple[str, ModelSpec]] = [(f"candidates[{i}](name={c.name})", c.as_model())
                                          for i, c in enumerate(cfg.candidates) if c.model]
    specs += [("judge" if name is None else f"judges[{i}](name={name})", j)
              for i, (name, j) in enumerate(cfg.judge_specs()) if j.kind != "rm"]
    if cfg.patient is not None and cfg.dialogue.turns > 1:
        specs.append(("patient", cfg.patient))
    return specs


def check_endpoints(cfg: RunConfig, config_path: Path, timeout: float = 3.0) -> None:
    """Check every model's provider exists and connect once to every server the run names.

    Raises InputError for the first unknown provider or server that does not answer.
    """
    specs = model_specs(cfg)
    providers = known_providers()
    for field, spec in specs:
        _check_provider(spec, field, config_path, providers)
        found = endpoint_url(spec)
        if found is None:
            continue
        where, url = found
        problem = _reachable(url, timeout)
        if problem:
            raise InputError(config_path, f"{field}.{where}" if where == "base_url" else f"{field} ({where})", url,
                             f"model server {problem}", "start the server or correct the URL")


KEYLESS = "unused"
"""The API key sent to a server that takes none (`api_key_env = "none"`): OpenAI clients insist on some key."""


def configured_api_key(spec: ModelSpec) -> str | None:
    """The key named by `api_key_env` (read from the environment), the placeholder for `"none"`, or None: the
    provider reads its own variable."""
    if spec.api_key_env is None:
        return None
    return KEYLESS if spec.api_key_env == "none" else os.environ.get(spec.api_key_env)


def api_key_variable(spec: ModelSpec) -> str | None:
    """The environment variable inspect reads the key of a server from (`<SERVICE>_API_KEY` for
    `openai-api/<service>/...`, `VLLM_API_KEY` for vllm), or None."""
    parts = spec.model.split("/")
    if parts[0] == "openai-api" and len(parts) >= 3:
        return f"{parts[1].upper().replace('-', '_')}_API_KEY"
    return "VLLM_API_KEY" if parts[0] == "vllm" else None


def probe_endpoints(cfg: RunConfig, config_path: Path, timeout: float = 5.0) -> list[str]:
    """`GET <server>/models` on every server the run names (`base_url`, or the provider's `*_BASE_URL`), with the
    key the run would send (`api_key_env`, else the provider's variable) when set (sent to that server only, never
    printed); one line per model.

    Raises InputError when a server does not answer in `timeout` seconds or refuses the key (401/403). Another
    HTTP status is a server that answers (some do not list models): reported, not an error. Models without a
    server URL (a provider's public API, local models) are listed as not probed.
    """
    lines = []
    for field, spec in model_specs(cfg):
        found = endpoint_url(spec)
        if found is None:
            lines.append(f"{field}: {spec.model}: no server URL to probe (a provider's public API or a local model)")
            continue
        where, url = found
        var = api_key_variable(spec)
        key = configured_api_key(spec) or (os.environ.get(var) if var else None)
        req = urllib.request.Request(url.rstrip("/") + "/models",
                                     headers={"Authorization": f"Bearer {key}"} if key else {})
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - the URL is the user's own server
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise InputError(config_path, f"{field}.{where}" if where == "base_url" else f"{field} ({where})", url,
                             f"model server did not answer GET /models in {timeout:g} s ({reason})",
                             "start the server or correct the URL") from None
        took = time.monotonic() - start
        if status in (401, 403):
            raise InputError(config_path, f"{field} (${var})" if var else field, url,
                             f"the server refused the API key (HTTP {status} to GET /models)",
                             f"set {var} to a key this server accepts" if var else "give the server's key")
        note = "" if 200 <= status < 300 else " (it answers, but does not list models there)"
        lines.append(f"{field}: {url}: GET /models answered HTTP {status} in {took:.2f} s{note}")
    return lines
