"""JupyterHub's configuration for `python -m kit hub` (kit/commands/hub.py), which
starts ``jupyterhub -f`` on this file with the hub's settings file named in
``KIT_HUB_SETTINGS``."""

import json
import os
from pathlib import Path

from kit.commands.hub import SETTINGS, configure

configure(get_config(), json.loads(Path(os.environ[SETTINGS]).read_text()))  # noqa: F821
