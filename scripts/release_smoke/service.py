"""The anfu release binary as a child process: its config, start, readiness, stop."""

import json
import os
import signal
import socket
import subprocess
import time

from .httpd import call


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def toml_table(header, values):
    lines = [header]
    lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def render_config(sections, shops, sinks):
    """sections: {name: {key: value}}; shops and sinks: lists of dicts."""
    out = [toml_table(f"[{name}]", values) for name, values in sections.items()]
    out += [toml_table("[[shops]]", shop) for shop in shops]
    out += [toml_table("[[sinks]]", sink) for sink in sinks]
    return "\n".join(out)


class Anfu:
    def __init__(self, binary, repo, workdir, token):
        self.binary, self.repo, self.workdir, self.token = binary, repo, workdir, token
        self.port = free_port()
        self.config = os.path.join(workdir, "anfu.toml")
        self.log_path = os.path.join(workdir, "anfu.log")
        self.proc = None
        self._log = None

    def write_config(self, text):
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANFU_")}
        env.setdefault("RUST_BACKTRACE", "1")
        env.pop("RUST_LOG", None)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config], cwd=self.repo, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_healthy(self, deadline_s=30):
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if not self.alive():
                return f"exited with code {self.proc.returncode} before /healthz answered"
            if call(self.port, "GET", "/healthz", timeout=2).status == 200:
                return None
            time.sleep(0.1)
        return f"/healthz did not answer 200 within {deadline_s}s"

    def get(self, path, auth=True, timeout=10):
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        return call(self.port, "GET", path, headers=headers, timeout=timeout)

    def post(self, path, body, headers=None, timeout=10):
        return call(self.port, "POST", path, body=body, headers=headers or {}, timeout=timeout)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sigterm(self, deadline_s=15):
        """SIGTERM, then the exit code (None if it did not exit in time; it is then killed)."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(deadline_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
