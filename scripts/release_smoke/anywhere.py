"""The release binary copied alone into an empty folder runs from there: its data is built
in. Every other check then runs `serve` from that folder too."""

import json
import os
import shutil
import subprocess


def install(binary, workdir):
    """Copies the binary into an empty folder of its own; returns (binary, folder)."""
    folder = os.path.join(workdir, "anywhere")
    os.makedirs(folder)
    copy = os.path.join(folder, "anfu")
    shutil.copy2(binary, copy)
    return copy, folder


def _run(binary, folder, *args, stdin=b""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANFU_")}
    return subprocess.run([binary, *args], cwd=folder, env=env, input=stdin,
                          capture_output=True, timeout=60)


def check(results, binary, folder):
    """`--version`, `analyze`, `check` and `export` from the empty folder."""
    bad, details = [], []
    version = _run(binary, folder, "--version")
    text = version.stdout.decode("utf-8", "replace").strip()
    if version.returncode != 0 or "commit " not in text:
        bad.append(f"--version: exit {version.returncode}, {text!r} (want the version and commit)")
    details.append(text)
    analysed = _run(binary, folder, "analyze", "--text", "衣服开线了，质量太差，我要退货")
    try:
        record = json.loads(analysed.stdout)
        if record.get("intent") != "complaint" or record.get("issue_type") != "quality":
            bad.append(f"analyze: {record.get('intent')}/{record.get('issue_type')} "
                       "(want complaint/quality)")
    except ValueError:
        bad.append(f"analyze: exit {analysed.returncode}: "
                   f"{analysed.stderr.decode('utf-8', 'replace')[:300]}")
    checked = _run(binary, folder, "check")
    if checked.returncode != 0:
        bad.append(f"check: exit {checked.returncode}: "
                   f"{checked.stderr.decode('utf-8', 'replace')[:300]}")
    out = os.path.join(folder, "data")
    exported = _run(binary, folder, "export", out)
    again = _run(binary, folder, "check", "--intents", os.path.join(out, "intents"),
                 "--replies", os.path.join(out, "replies"))
    if exported.returncode != 0 or again.returncode != 0:
        bad.append(f"export then check: exits {exported.returncode}, {again.returncode}: "
                   f"{(exported.stderr + again.stderr).decode('utf-8', 'replace')[:300]}")
    shutil.rmtree(out, ignore_errors=True)
    leftovers = sorted(set(os.listdir(folder)) - {"anfu"})
    details.append(f"run in {folder} (holding only the binary{', ' + ', '.join(leftovers) if leftovers else ''})")
    results.check("runs-anywhere", bad, details)
