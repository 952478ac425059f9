"""``python -m server_ext.demo_provider``: run the demo provider as a process of its own."""

from __future__ import annotations

import sys

from .server import main

sys.exit(main())
