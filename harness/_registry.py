"""inspect_ai entry point: registers theraeval's model providers when inspect loads plug-ins."""

from inspect_ai.model import modelapi


@modelapi(name="scripted")
def scripted() -> type:
    from harness.testing import ScriptedAPI

    return ScriptedAPI
