"""`python -m kit hub`: the course on a JupyterHub on this machine, for trying the
whole round trip (release, fetch, submit, collect, grade, feedback) before a term.

Examples
--------
    make hub                                    # what most people want
    python -m kit hub --port 8000 --student ada --student alan

JupyterHub (from the lock file) listens on 127.0.0.1 only, with its proxy,
``configurable-http-proxy``, from ``hub/node_modules`` (``make hub`` installs it
with ``npm ci`` from ``hub/package-lock.json``). Its users:

- the instructor (``--instructor``, default ``instructor``), a hub admin, whose
  server opens the course folder, so its JupyterLab has nbgrader's formgrader;
- the students (``--student``, default ``student1`` and ``student2``), whose
  JupyterLab has nbgrader's *Assignment List* and *Validate* but no formgrader,
  and whose kernels import the student library ``release/library``.

Everyone logs in with one password (JupyterHub's ``DummyAuthenticator``), the
``KIT_HUB_PASSWORD`` variable or else a random one kept in ``<state>/password``.
Every single-user server runs as the Unix user that started the hub
(``SimpleLocalProcessSpawner``), each with its own home in ``<state>/home/``, so
each student's nbgrader configuration names the student (``student_id``):
nbgrader otherwise takes the Unix user's name. This is a test bench, not a
course's hub: see the README, "A course's own JupyterHub", for what changes.

nbgrader's exchange is ``<state>/exchange``. The state folder (``--state``,
default ``<course>/.hub``) also keeps the hub's database and cookie secret.
"""

import json
import os
import secrets
import socket
import sys
from pathlib import Path

from kit.course import ROOT, KitError, tool_env

PROXY = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = Path(__file__).with_name("jupyterhub_config.py")
SETTINGS = "KIT_HUB_SETTINGS"  # variable naming the settings file of a hub
STUDENTS = ("student1", "student2")

# nbgrader's server extensions and JupyterLab plugins a student does not get.
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",)
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader",
                          "@jupyter/nbgrader:create-assignment")
# JupyterLab's settings for every user: an offline course server asks no one for
# news or updates (and shows no pop-up asking to).
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False}}


def course_id(course):
    """The nbgrader course id of ``course`` (its ``nbgrader_config.py``)."""
    from traitlets.config.loader import PyFileConfigLoader

    loader = PyFileConfigLoader("nbgrader_config.py", path=str(course.root))
    config = loader.load_config()
    value = config.CourseDirectory.get("course_id")
    if not value:
        raise KitError(f"{course.root / 'nbgrader_config.py'} sets no "
                       "c.CourseDirectory.course_id: the exchange needs one.")
    return value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def prepare(course, state, instructor, students, port):
    """Write the hub's state folder and every user's configuration; return the
    settings the JupyterHub configuration reads (also kept in the folder)."""
    if not PROXY.is_file():
        raise KitError(f"{PROXY}: missing; `make hub` installs JupyterHub's proxy "
                       "from hub/package-lock.json (npm ci --prefix hub).")
    if (course.root / "lib").is_dir() and course.library is None:
        raise KitError("release/library: missing; the student library is built "
                       "from lib/ by `python -m kit build`.")
    names = [instructor, *students]
    if len(set(names)) != len(names):
        raise KitError(f"every user needs a name of their own: {', '.join(names)}")
    cid = course_id(course)
    exchange = state / "exchange"
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o777)  # nbgrader's exchange is written by every user
    password_file = state / "password"
    password = os.environ.get("KIT_HUB_PASSWORD")
    if not password:
        if not password_file.is_file():
            _write(password_file, secrets.token_urlsafe(12) + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
    for name in names:
        config = state / "home" / name / ".jupyter"
        student = name != instructor
        lines = [f"c.CourseDirectory.course_id = {cid!r}",
                 f"c.Exchange.root = {str(exchange)!r}",
                 # nbgrader's name for the student (they share one Unix user); the
                 # instructor's formgrader finds the course from any folder.
                 f"c.CourseDirectory.student_id = {name!r}" if student else
                 f"c.CourseDirectory.root = {str(course.root)!r}"]
        _write(config / "nbgrader_config.py",
               "# Written by `python -m kit hub` at each start.\n" + "\n".join(lines)
               + "\n")
        _write(config / "jupyter_server_config.json", json.dumps(
            {"ServerApp": {"jpserver_extensions": {
                ext: not student for ext in INSTRUCTOR_SERVER_EXTENSIONS}}}, indent=1))
        _write(config / "labconfig" / "page_config.json", json.dumps(
            {"disabledExtensions": {p: student for p in INSTRUCTOR_LAB_PLUGINS}},
            indent=1))
        for file, values in LAB_SETTINGS.items():
            _write(config / "lab" / "user-settings" / file, json.dumps(values))
    settings = {
        "course": str(course.root), "state": str(state), "port": port,
        "hub_port": free_port(), "proxy_api_port": free_port(),
        "instructor": instructor, "students": list(students), "password": password,
        "library": str(course.library) if course.library else None,
        "proxy": str(PROXY), "singleuser": str(Path(sys.executable).parent
                                               / "jupyterhub-singleuser"),
    }
    _write(state / "settings.json", json.dumps(settings, indent=1))
    (state / "settings.json").chmod(0o600)
    return settings


def configure(c, settings):
    """Fill JupyterHub's configuration ``c`` from ``settings`` (see `prepare`)."""
    from jupyterhub.auth import DummyAuthenticator
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    state = Path(settings["state"])
    instructor = settings["instructor"]
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = settings["port"]
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings["hub_port"]
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.command = [settings["proxy"]]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

    c.JupyterHub.authenticator_class = DummyAuthenticator
    c.DummyAuthenticator.password = settings["password"]
    c.Authenticator.allowed_users = {instructor, *settings["students"]}
    c.Authenticator.admin_users = {instructor}

    c.JupyterHub.spawner_class = SimpleLocalProcessSpawner
    c.SimpleLocalProcessSpawner.home_dir_template = str(state / "home" / "{username}")
    c.Spawner.cmd = [settings["singleuser"]]
    c.Spawner.default_url = "/lab"
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 120
    # An offline course server: JupyterLab asks no one for news or updates.
    c.Spawner.args = ["--LabApp.news_url=None",
                      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        c.Spawner.args.append("--allow-root")

    def pre_spawn(spawner):
        name = spawner.user.name
        home = state / "home" / name
        env = {k: v for k, v in tool_env().items()
               if k.startswith("KIT_GRADEBOOK") or k == "PATH"}
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
                   JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"))
        if name == instructor:
            spawner.notebook_dir = settings["course"]
        elif settings["library"]:
            env["PYTHONPATH"] = settings["library"]
        spawner.environment = env

    c.Spawner.pre_spawn_hook = pre_spawn


def main(args, course):
    students = args.student or list(STUDENTS)
    state = (args.state or course.root / ".hub").resolve()
    prepare(course, state, args.instructor, students, args.port)
    url = f"http://127.0.0.1:{args.port}/"
    print(f"JupyterHub for {course.root} at {url}\n"
          f"  instructor (formgrader): {args.instructor}\n"
          f"  students (Assignment List): {', '.join(students)}\n"
          f"  password: in {state / 'password'} (or $KIT_HUB_PASSWORD)\n"
          f"  nbgrader exchange: {state / 'exchange'}\n"
          "Stop it with Ctrl+C.", flush=True)
    env = dict(tool_env(), **{SETTINGS: str(state / "settings.json")})
    env.pop("KIT_GRADING", None)
    # JupyterHub takes this process's place, so that Ctrl+C or a SIGTERM reach it:
    # it stops the users' servers and its proxy before it exits.
    os.chdir(state)
    jupyterhub = str(Path(sys.executable).parent / "jupyterhub")
    os.execve(jupyterhub, [jupyterhub, "-f", str(CONFIG)], env)


def add_arguments(parser):
    parser.add_argument("--port", type=int, default=8000,
                        help="the hub's port on 127.0.0.1 (default: 8000)")
    parser.add_argument("--state", type=Path, metavar="DIR",
                        help="the hub's state folder (default: <course>/.hub)")
    parser.add_argument("--instructor", default="instructor", metavar="NAME",
                        help="the instructor's user name (default: instructor)")
    parser.add_argument("--student", action="append", metavar="NAME",
                        help="a student's user name (may repeat; default: "
                             f"{' '.join(STUDENTS)})")


HELP = "run the course on a JupyterHub on this machine (instructor and students)"
