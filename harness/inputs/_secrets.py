"""No secret in a config: a run config is copied into the run directory and its model settings into every log, so
anything secret-looking in it is refused before any work, and the error names the field, never the value.

Secret-looking is any of (at any depth of the TOML table):

* a key named like a credential: `api_key`, `api-key`, `x-api-key`, `Authorization`, `token`, `secret`,
  `password`, `credentials`, `cookie`, `...-subscription-key` (the name is split into words, so `max_tokens` or
  `tokenizer_path` are not, and neither are text tokens such as `stop_token` or `eos_token`);
* a value shaped like a key: OpenAI/Anthropic `sk-...`, Hugging Face `hf_...`, GitHub `ghp_...`, Groq `gsk_...`,
  Google `AIza...`, AWS `AKIA...`, Slack `xox?-...`, an `Authorization` scheme (`Bearer ...`, `Basic ...`) or a
  PEM private key;
* a URL with credentials: `user:password@host` (or a user name alone, as tokens are passed that way), or a query
  parameter named like a credential (`?api_key=...`, `&token=...`, `&sig=...`).

A key named `..._env` or `..._var` whose value is an environment-variable name (`OPENAI_API_KEY`) names where a
secret is, and is allowed: `api_key_env`, or `model_args.api_key_var` of `openai-api`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.core import InputError

HIDDEN = "<hidden>"
"""What an error shows instead of a secret-looking value."""
_SECRET_WORDS = {"apikey", "token", "secret", "secrets", "password", "passwd", "passphrase", "authorization", "auth",
                 "credential", "credentials", "bearer", "cookie", "sig", "signature", "privatekey"}
_TEXT_TOKENS = {"stop", "eos", "bos", "pad", "unk", "sep", "cls", "mask", "special", "end", "start"}
"""`stop_token`, `eos_token`...: tokens of text, not credentials."""
_KEY_PREFIXES = {"api", "access", "private", "secret", "subscription", "auth", "client", "service"}
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SECRET_VALUES = [re.compile(p) for p in (
    r"\bsk-[A-Za-z0-9_\-]{8,}",               # OpenAI, Anthropic (sk-ant-...)
    r"\bhf_[A-Za-z0-9]{16,}",                  # Hugging Face
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",           # GitHub
    r"\bgsk_[A-Za-z0-9]{16,}",                 # Groq
    r"\bAIza[0-9A-Za-z_\-]{30,}",              # Google
    r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",            # AWS access key id
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",        # Slack
    r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}",  # an Authorization header value
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
)]


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # camelCase -> camel Case
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def secret_name(name: str) -> bool:
    """Whether a key name says its value is a credential (`api_key`, `Authorization`, `x-api-key`, `token`...)."""
    words = _words(str(name))
    if any(w in _SECRET_WORDS and not (w == "token" and i > 0 and words[i - 1] in _TEXT_TOKENS)
           for i, w in enumerate(words)):
        return True
    return any(w == "key" and i > 0 and words[i - 1] in _KEY_PREFIXES for i, w in enumerate(words))


def secret_value(value: str) -> bool:
    """Whether a string looks like a key, an Authorization header, or a URL carrying credentials."""
    if any(p.search(value) for p in _SECRET_VALUES):
        return True
    for url in re.findall(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+", value):
        try:
            parts = urlsplit(url)
            user = parts.username
        except ValueError:
            continue
        if user or any(secret_name(k) or secret_value(v) for k, v in parse_qsl(parts.query, keep_blank_values=True)):
            return True
    return False


def _names_a_variable(name: str, value: Any) -> bool:
    return (_words(str(name))[-1:] in (["env"], ["var"]) and isinstance(value, str)
            and (value == "none" or bool(_ENV_NAME.match(value))))


def find_secret(node: Any, path: str = "") -> str | None:
    """The dotted path of the first secret-looking entry of a TOML table (module docstring), or None."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}.{k}" if path else str(k)
            if secret_name(k) and not _names_a_variable(k, v) and v not in (None, "", {}, []):
                return here
            found = find_secret(v, here)
            if found:
                return found
    elif isinstance(node, list):
        for i, v in enumerate(node):
            name = v.get("name") if isinstance(v, dict) and isinstance(v.get("name"), str) else None
            name = None if name is not None and secret_value(name) else name
            found = find_secret(v, f"{path}[{i}]" + (f"(name={name})" if name else ""))
            if found:
                return found
    elif isinstance(node, str) and secret_value(node):
        return path
    return None


def check_no_secrets(raw: dict[str, Any], file: Path) -> None:
    """Refuse a config holding anything secret-looking; the error names the field and hides the value."""
    field = find_secret(raw)
    if field is not None:
        raise InputError(file, field, HIDDEN, "looks like a secret (an API key, a token, an Authorization header or "
                         "credentials in a URL), and configs are copied into the run directory and its logs",
                         "remove it from the config and put the key in the provider's environment variable (e.g. "
                         "OPENAI_API_KEY, <SERVICE>_API_KEY, or the variable named by api_key_env)")


def hide_secrets(field: str, value: Any) -> Any:
    """`value` as an error message may show it: hidden when the field is named like a credential or the value looks
    like one; the values of credential-named keys inside it hidden too."""
    if secret_name(field.rsplit(".", 1)[-1]) or (isinstance(value, str) and secret_value(value)):
        return HIDDEN
    if isinstance(value, dict):
        return {k: hide_secrets(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(field, v) for v in value]
    return value
