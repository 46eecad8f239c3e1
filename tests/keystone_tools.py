"""A real Keystone for tests: SQLite database, fernet tokens, served on a loopback port.

Keystone runs from its own virtualenv (`.venv-keystone`, made by `./dev.sh test`, or the
one named by NEUTRINO_KEYSTONE_VENV).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx

REPO = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "admin-secret"
PASSWORD = "user-secret"
# keystonemiddleware keeps a validated token this long without asking Keystone again, so a
# revoked token keeps working until then (its default is 300 s; see the README).
TOKEN_CACHE_SECONDS = 5


@dataclass
class Keystone:
    url: str  # .../v3
    process: subprocess.Popen[bytes]
    projects: dict[str, str] = field(default_factory=dict)  # name -> id

    def token(self, user: str, project: str, password: str = PASSWORD) -> str:
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
        response = httpx.post(f"{self.url}/auth/tokens", json=body, timeout=60)
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    def admin(self) -> str:
        return self.token("admin", "admin", ADMIN_PASSWORD)

    def revoke(self, token: str) -> None:
        response = httpx.delete(f"{self.url}/auth/tokens", timeout=60, headers={
            "X-Auth-Token": self.admin(), "X-Subject-Token": token})
        assert response.status_code == 204, response.text

    def short_lived_token(self, user: str, project: str, seconds: float) -> str:
        """A token that expires in `seconds`: Keystone caps a token issued for an application
        credential at the credential's expiry, so no Keystone-wide setting has to change."""
        token = self.token(user, project)
        user_id = httpx.get(f"{self.url}/auth/tokens", timeout=60, headers={
            "X-Auth-Token": token, "X-Subject-Token": token}).json()["token"]["user"]["id"]
        expires = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        created = httpx.post(
            f"{self.url}/users/{user_id}/application_credentials", timeout=60,
            headers={"X-Auth-Token": token},
            json={"application_credential": {"name": f"short-{uuid.uuid4()}",
                                             "expires_at": expires}})
        assert created.status_code == 201, created.text
        credential = created.json()["application_credential"]
        body = {"auth": {"identity": {"methods": ["application_credential"],
                                      "application_credential": {
                                          "id": credential["id"],
                                          "secret": credential["secret"]}}}}
        response = httpx.post(f"{self.url}/auth/tokens", json=body, timeout=60)
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    def create(self, kind: str, body: dict[str, object]) -> str:
        singular = kind[:-1]
        response = httpx.post(f"{self.url}/{kind}", json={singular: body}, timeout=60,
                              headers={"X-Auth-Token": self.admin()})
        assert response.status_code == 201, response.text
        return response.json()[singular]["id"]

    def role_id(self, name: str) -> str:
        roles = httpx.get(f"{self.url}/roles", params={"name": name}, timeout=60,
                          headers={"X-Auth-Token": self.admin()}).json()["roles"]
        return roles[0]["id"]

    def grant(self, user_id: str, project_id: str, role: str) -> None:
        url = f"{self.url}/projects/{project_id}/users/{user_id}/roles/{self.role_id(role)}"
        response = httpx.put(url, timeout=60, headers={"X-Auth-Token": self.admin()})
        assert response.status_code == 204, response.text

    def user(self, name: str, project: str, role: str) -> str:
        user_id = self.create("users", {"name": name, "password": PASSWORD,
                                        "domain_id": "default"})
        self.grant(user_id, self.projects[project], role)
        return user_id


def keystone_python() -> Path:
    venv = Path(os.environ.get("NEUTRINO_KEYSTONE_VENV", REPO / ".venv-keystone"))
    python = venv / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"Keystone's virtualenv {venv} is missing: run ./dev.sh test")
    return python


def start_keystone(directory: Path, port: int) -> Keystone:
    python = keystone_python()
    config = _write_config(directory)
    manage = [str(python.parent / "keystone-manage"), "--config-file", str(config)]
    for args in (["db_sync"],
                 ["fernet_setup", "--keystone-user", _user(), "--keystone-group", _group()],
                 ["credential_setup", "--keystone-user", _user(), "--keystone-group",
                  _group()],
                 ["bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
                  "--bootstrap-public-url", f"http://127.0.0.1:{port}/v3",
                  "--bootstrap-region-id", "RegionOne"]):
        subprocess.run(manage + args, check=True, capture_output=True, timeout=300)
    log = open(directory / "server.log", "w")  # noqa: SIM115 - owned by the process
    process = subprocess.Popen(
        [str(python), str(REPO / "tests" / "keystone_server.py"), str(config), str(port)],
        stdout=log, stderr=subprocess.STDOUT)
    keystone = Keystone(f"http://127.0.0.1:{port}/v3", process)
    _wait_ready(keystone, directory)
    return keystone


def _write_config(directory: Path) -> Path:
    config = directory / "keystone.conf"
    config.write_text(
        f"[DEFAULT]\nlog_file = {directory / 'keystone.log'}\n"
        f"[database]\nconnection = sqlite:///{directory / 'keystone.db'}\n"
        "[token]\nprovider = fernet\n"
        f"[fernet_tokens]\nkey_repository = {directory / 'fernet-keys'}\n"
        f"[fernet_receipts]\nkey_repository = {directory / 'fernet-keys'}\n"
        f"[credential]\nkey_repository = {directory / 'credential-keys'}\n"
    )
    return config


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _group() -> str:
    import grp

    return grp.getgrgid(os.getgid()).gr_name


def _wait_ready(keystone: Keystone, directory: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if keystone.process.poll() is not None:
            raise RuntimeError((directory / "server.log").read_text()[-3000:])
        try:
            if httpx.get(keystone.url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("Keystone did not start: " + (directory / "server.log").read_text()[-3000:])
