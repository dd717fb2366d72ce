"""`ocrmp web`: the web console, served until interrupted."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from ocrmp.cli import main
from ocrmp.cli.common import Command, guarded
from ocrmp.cli.options import POOL_OPTIONS, settings_from, with_options
from ocrmp.errors import ConfigError


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@click.option("--host", default="127.0.0.1",
              help="Address to listen on; beyond loopback only with OCRMP_WEB_TOKEN set")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, help="Port to listen on")
@guarded
def web(config_file: Path | None, pool_name: str | None, host: str, port: int) -> None:
    """Serve the web console: every enabled environment's queue (counts, pages per minute,
    failures, flagged documents), the fleet, the jobs with their attempts and pages, and
    the flagged documents to review (accept, requeue, cancel).

    It listens on loopback. Any other address needs a token in OCRMP_WEB_TOKEN (16
    characters or more): every request must then carry it (the login form sets a cookie,
    scripts send `Authorization: Bearer TOKEN`). Page images are read as OCR reads them,
    under OCRMP_PAGE_TIMEOUT and OCRMP_MAX_MEGAPIXELS.

    \b
    Examples:
      ocrmp web                       # http://127.0.0.1:8080
      OCRMP_WEB_TOKEN=$(cat token) ocrmp web --host 0.0.0.0 --port 8443
    """
    from ocrmp.web.security import TOKEN_VARIABLE, check_bind

    token = os.environ.get(TOKEN_VARIABLE) or None
    check_bind(host, token)
    try:
        import uvicorn

        from ocrmp.web.app import create_app
    except ModuleNotFoundError as error:
        raise ConfigError(f"the web console needs {error.name}: pip install 'ocrmp[web]'") \
            from None
    from ocrmp.cli.databases import prepare_databases

    settings = prepare_databases(settings_from(config_file, pool_name=pool_name))
    app = create_app(settings, token=token, operator=getpass.getuser())
    click.echo(f"ocrmp web: http://{host}:{port}/ ({', '.join(settings.environments)})",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                server_header=False)
