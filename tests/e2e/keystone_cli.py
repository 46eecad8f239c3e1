"""The openstack CLI and openstacksdk as real Keystone users of the e2e `world`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openstack
from keystone_tools import PASSWORD

USERS = {"a_member": "alpha", "b_member": "beta", "g_member": "gamma"}


def run(world, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The openstack CLI as a Keystone user, by password."""
    env = dict(os.environ, OS_AUTH_URL=world.keystone.url, OS_USERNAME=user,
               OS_PASSWORD=PASSWORD, OS_PROJECT_NAME=USERS[user],
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_IDENTITY_API_VERSION="3", OS_REGION_NAME="RegionOne")
    cli = shutil.which("openstack") or str(Path(sys.executable).parent / "openstack")
    return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)


def cli(world, user: str, *args: str) -> Any:
    done = run(world, user, *args, "-f", "json")
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return json.loads(done.stdout)


def refused(world, user: str, *args: str) -> str:
    done = run(world, user, *args)
    assert done.returncode != 0, done.stdout
    return done.stderr


def sdk(world, user: str) -> openstack.connection.Connection:
    return openstack.connect(
        auth_url=world.keystone.url, username=user, password=PASSWORD,
        project_name=USERS[user], user_domain_name="Default", project_domain_name="Default",
        region_name="RegionOne", identity_api_version="3")
