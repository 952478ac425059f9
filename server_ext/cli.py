"""The ``chatmore`` command line.

Settings are read as the server reads them: Jupyter config files (``--config FILE`` adds
one), then the environment. Secrets are never taken as arguments only.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from traitlets.config import Application

from .config import ConfigError, Settings, settings_from_traits
from .errors import ChatMoreError
from .security.private_files import private_dir
from .store import migrate
from .store.db import Database, describe_db_error


def load_cli_settings(config_file: str | None) -> Settings:
    from .app import ChatMoreApp

    app = ChatMoreApp()
    if config_file:
        if not Path(config_file).is_file():
            raise SystemExit(f"chatmore: no config file at {config_file}")
        app.config_file = str(Path(config_file).resolve())
    app.load_config_file()
    Application.load_config_file(app, "jupyter_server_config", path=app.config_file_paths)
    return settings_from_traits(app)


def open_database(settings: Settings, *, migrate_schema: bool = True) -> Database:
    private_dir(settings.data_dir)
    db = Database(settings.db_url, threads=2)
    try:
        if migrate_schema:
            migrate.upgrade(db.engine)
        else:
            db.ping_sync()
    except Exception as exc:
        raise SystemExit(f"chatmore: cannot use the database: {describe_db_error(exc)}") from None
    return db


# -- commands --------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    private_dir(settings.data_dir)
    db = Database(settings.db_url, threads=1)
    try:
        before, after = migrate.upgrade(db.engine)
    except Exception as exc:
        print(f"chatmore: upgrade failed: {describe_db_error(exc)}", file=sys.stderr)
        return 1
    finally:
        db.close()
    if before == after:
        print(f"database is up to date (revision {after})")
    else:
        print(f"database upgraded from {before or 'empty'} to {after}")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    private_dir(settings.data_dir)
    db = Database(settings.db_url, threads=1)
    try:
        current = migrate.current_revision(db.engine)
    finally:
        db.close()
    head = migrate.head_revision()
    state = "up to date" if current == head else f"behind (head is {head})"
    print(f"revision {current or 'none'}: {state}")
    return 0 if current == head else 1


def cmd_db_ddl(args: argparse.Namespace, settings: Settings) -> int:
    sys.stdout.write(migrate.render_mysql_ddl())
    return 0


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("chatmore: the passwords differ")
    return first


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from .services.accounts import create_user_sync

    password = read_password(args)
    db = open_database(settings)
    try:
        user = create_user_sync(
            db,
            email=args.email,
            password=password,
            display_name=args.display_name,
            role="admin" if args.admin else "user",
            bcrypt_cost=settings.bcrypt_cost,
        )
    except ChatMoreError as exc:
        print(f"chatmore: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(f"created {user['role']} {user['email']} (id {user['id']})")
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from .security.secret_box import SecretBox
    from .services.models import reencrypt_keys_sync

    if settings.secret_key:
        print(
            "chatmore: the keys come from CHATMORE_SECRET_KEY; put the new kid:key pair "
            "first there, keep the old ones after it, then run `chatmore keys reencrypt`",
            file=sys.stderr,
        )
        return 1
    box = SecretBox.load(settings.data_dir).rotated()
    box.save(settings.data_dir)
    print(f"new active key {box.active_kid}; old keys kept for reading")
    db = open_database(settings)
    try:
        done, unreadable = reencrypt_keys_sync(db, box)
    finally:
        db.close()
    print(f"re-encrypted {done} API keys ({unreadable} unreadable)")
    return 0 if not unreadable else 1


def cmd_keys_reencrypt(args: argparse.Namespace, settings: Settings) -> int:
    from .security.secret_box import SecretBox
    from .services.models import reencrypt_keys_sync

    box = SecretBox.load(settings.data_dir, settings.secret_key)
    db = open_database(settings)
    try:
        done, unreadable = reencrypt_keys_sync(db, box)
    finally:
        db.close()
    print(f"re-encrypted {done} API keys with key {box.active_kid} ({unreadable} unreadable)")
    return 0 if not unreadable else 1


def cmd_lab(args: argparse.Namespace, settings: Settings) -> int:
    from .quickstart import launch_lab

    return launch_lab(settings, args.config, args.jupyter_args)


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from .dashboard import serve

    return serve(
        settings,
        notebook=args.notebook,
        ip=args.ip,
        port=args.port,
        base_url=args.base_url,
        log_level=args.log_level,
    )


def cmd_demo_provider(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from .demo_provider.server import serve

    asyncio.run(serve(args.host, args.port, record=args.record))
    return 0


# -- parser ----------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatmore",
        allow_abbrev=False,
        description="ChatMore: compare LLMs side by side in Jupyter, every turn recorded.",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="a Jupyter config file (c.ChatMoreApp.… settings)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    db = sub.add_parser("db", help="database schema: upgrade, current, ddl")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(run=cmd_db_upgrade)
    db_sub.add_parser("current", help="show the schema revision").set_defaults(run=cmd_db_current)
    db_sub.add_parser("ddl", help="print the MySQL DDL of the tables").set_defaults(run=cmd_db_ddl)

    keys = sub.add_parser("keys", help="the key that encrypts provider API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_sub.add_parser(
        "rotate", help="make a new active key and re-encrypt every API key with it"
    ).set_defaults(run=cmd_keys_rotate)
    keys_sub.add_parser(
        "reencrypt", help="re-encrypt every API key with the active key"
    ).set_defaults(run=cmd_keys_reencrypt)

    user = sub.add_parser(
        "create-user",
        allow_abbrev=False,
        help="create an account (the password is read from a prompt or stdin)",
    )
    user.add_argument("--email", required=True)
    user.add_argument("--display-name", default=None)
    user.add_argument("--admin", action="store_true", help="give the account the admin role")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(run=cmd_create_user)

    lab = sub.add_parser(
        "lab",
        help="the quick start: JupyterLab with ChatMore, demo models and an admin account "
        "(further arguments go to jupyter lab)",
    )
    lab.set_defaults(run=cmd_lab, passthrough=True)

    from .dashboard import DEFAULT_PORT

    dashboard = sub.add_parser(
        "dashboard",
        allow_abbrev=False,
        help="serve the dashboard notebook as a web app, with the ChatMore API on the same "
        "address (for people with only a browser)",
    )
    dashboard.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (0.0.0.0 behind a proxy)"
    )
    dashboard.add_argument("--port", type=int, default=DEFAULT_PORT)
    dashboard.add_argument(
        "--notebook",
        metavar="PATH",
        help="the notebook to serve (default: notebooks/dashboard.ipynb or dashboard.ipynb)",
    )
    dashboard.add_argument(
        "--base-url", default="/", help="URL prefix, when a proxy serves it under a path"
    )
    dashboard.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    dashboard.set_defaults(run=cmd_dashboard)

    from .demo_provider.server import build_parser as demo_provider_parser

    demo = sub.add_parser(
        "demo-provider",
        help="a local OpenAI-compatible provider for demos, tests and benchmarks",
    )
    demo_provider_parser(demo).set_defaults(run=cmd_demo_provider)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # `chatmore lab …` hands every further argument to JupyterLab.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
    try:
        settings = load_cli_settings(args.config)
    except ConfigError as exc:
        print(f"chatmore: {exc}", file=sys.stderr)
        return 2
    run: Command = args.run
    return run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
