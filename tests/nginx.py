"""A throwaway nginx for the tests, a CDN stand-in run from the machine's binary in a folder of its own.

The caller gives the site configuration (what docs/deployment.md puts in nginx's http block); this
module wraps it in the process-level rest: the foreground (`daemon off`), and the pid file, logs, temp
folders and cache all in a temporary folder, so it never touches the system's nginx, its default site
or port 80. Under root (CI) the workers run as `nobody`, in a folder that user owns, as they would in
production (not as root).

Binary missing: the tests that need it skip, with the reason, unless RECSYS_TEST_REQUIRE_NGINX=1 (CI),
where they fail.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

REQUIRE = "RECSYS_TEST_REQUIRE_NGINX"
# Debian installs it in /usr/sbin, which is not on an unprivileged user's PATH.
_PLACES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
# Read once, at import: every test's environment is cleared of RECSYS_* variables (tests/conftest.py).
_REQUIRED = os.environ.get(REQUIRE, "") == "1"


def binary_or_skip() -> str:
    """The nginx binary; skip without one, or in CI fail."""
    found = shutil.which("nginx") or next((place for place in _PLACES if os.access(place, os.X_OK)), None)
    if found is not None:
        return found
    why = "nginx not found (Debian: apt-get install nginx)"
    if _REQUIRED:
        pytest.fail(f"{REQUIRE}=1 but {why}")
    pytest.skip(why)


class Nginx:
    """An nginx folder: `cache` for the site's proxy_cache_path, the logs, and `command()` to run it in
    the foreground (for tests/servers.py `running`) with `site` included in its http block."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        # Not under pytest's tmp_path: its folders are private to root, and `nobody` must reach this.
        self.folder = Path(tempfile.mkdtemp(prefix="recsys-nginx-"))
        self.cache = self.folder / "cache"
        self.access_log = self.folder / "access.log"
        self.error_log = self.folder / "error.log"

    def command(self, site: str) -> list[str]:
        """Write `site` and the configuration around it; the command line that runs them."""
        temp = self.folder / "temp"
        for path in (self.cache, temp):
            path.mkdir(exist_ok=True)
        (self.folder / "site.conf").write_text(site, encoding="utf-8")
        user = ""
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"
            for path in (self.folder, self.cache, temp):
                shutil.chown(path, nobody.pw_uid, nobody.pw_gid)
        main = f"""
daemon off;
{user}
worker_processes 1;
pid {self.folder}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 256; }}
http {{
    log_format cdn '$request_uri $status $upstream_cache_status $upstream_status';
    access_log {self.access_log} cdn;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.folder}/site.conf;
}}
"""
        conf = self.folder / "nginx.conf"
        conf.write_text(main, encoding="utf-8")
        # -e: the error log before the configuration is read (the default one is the system's).
        return [self.binary, "-c", str(conf), "-p", str(self.folder), "-e", str(self.error_log)]

    def logs(self) -> str:
        """The tail of both logs, for a failing test's message."""
        return "\n".join(
            path.read_text(encoding="utf-8", errors="replace")[-3000:]
            for path in (self.error_log, self.access_log)
            if path.exists()
        )

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
