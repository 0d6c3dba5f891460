"""Pre-flight check of model endpoints, so an unreachable server is one clear error, not endless retries."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from harness.core import InputError
from harness.inputs import BUILTIN_SMOLLM2, ModelSpec, RunConfig
from harness.run._preflight import run_models


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


def check_endpoints(cfg: RunConfig, config_path: Path, timeout: float = 3.0) -> None:
    """Check every model's provider exists and connect once to every server the run names.

    Raises InputError for the first unknown provider or server that does not answer.
    """
    providers = known_providers()
    for field, spec in run_models(cfg):
        _check_provider(spec, field, config_path, providers)
        found = endpoint_url(spec)
        if found is None:
            continue
        where, url = found
        problem = _reachable(url, timeout)
        if problem:
            raise InputError(config_path, f"{field}.{where}" if where == "base_url" else f"{field} ({where})", url,
                             f"model server {problem}", "start the server or correct the URL")
