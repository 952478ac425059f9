"""A local OpenAI-compatible provider: replies, pace and faults chosen by the model name.

It streams exactly like OpenAI's Chat Completions, so the offline quick start, the tests
and the benchmarks talk to it as to any provider. Mount it in a tornado application with
:func:`routes`, or run it as a process of its own::

    python -m server_ext.demo_provider --host 127.0.0.1 --port 9000 [--record]
    chatmore demo-provider --port 9000

:data:`DEMO_MODELS` lists the models the quick start registers.
"""

from __future__ import annotations

from .handlers import routes
from .presets import DEMO_MODELS

__all__ = ["DEMO_MODELS", "routes"]
