"""``chatmore lab``: the quick start.

Brings the database up to date, makes sure there is an admin account (created on first
start, its password written to a 0600 credentials file that ``cm.connect()`` reads), and
starts JupyterLab with ChatMore and the demo models on the workbench notebook.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .config import Settings
from .security.passwords import generate_password
from .security.private_files import write_private_json
from .services.accounts import create_user_sync
from .store import users as user_store
from .store.db import Database

QUICKSTART_ADMIN = "admin@chatmore.local"
WORKBENCH = Path("notebooks") / "workbench.ipynb"
WORKBENCH_URL = f"/lab/tree/{WORKBENCH.as_posix()}"


def credentials_path(settings: Settings) -> Path:
    return settings.data_dir / "credentials.json"


def ensure_admin(db: Database, settings: Settings) -> tuple[str, Path, bool]:
    """Create the quick-start admin unless an admin exists. Returns (email, credentials
    file, created)."""
    path = credentials_path(settings)
    if db.read_sync(user_store.count_admins) > 0:
        email = QUICKSTART_ADMIN
        if path.is_file():
            email = json.loads(path.read_text()).get("email", email)
        return email, path, False
    password = generate_password()
    create_user_sync(
        db,
        email=QUICKSTART_ADMIN,
        password=password,
        display_name="Admin",
        role="admin",
        bcrypt_cost=settings.bcrypt_cost,
    )
    write_private_json(path, {"email": QUICKSTART_ADMIN, "password": password})
    return QUICKSTART_ADMIN, path, True


def launch_lab(settings: Settings, config_file: str | None, jupyter_args: list[str]) -> int:
    from .cli import open_database

    db = open_database(settings)
    try:
        email, path, created = ensure_admin(db, settings)
    finally:
        db.close()
    state = "created" if created else "exists"
    print(f"ChatMore admin account {email} ({state}); its password is in {path}")
    print(f"ChatMore data: {settings.data_dir}  database: {_label(settings.db_url)}")

    argv = [sys.executable, "-m", "jupyterlab"]
    if config_file:
        argv.append(f"--config={Path(config_file).resolve()}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    if WORKBENCH.is_file():
        # Opened as the lab's first page (also the address it prints), with the working
        # directory as the file browser's root. (Given as a file to open instead, Jupyter
        # would make notebooks/ the root and print the Launcher's address.)
        argv.append(f"--LabApp.default_url={WORKBENCH_URL}")
    argv.extend(arg for arg in jupyter_args if arg != "--")
    env = dict(os.environ)
    env.setdefault("CHATMORE_DEMO", "true")
    env["CHATMORE_CREDENTIALS"] = str(path)
    os.execvpe(argv[0], argv, env)  # noqa: S606 - becomes JupyterLab, as the user asked
    return 0  # not reached


def _label(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
