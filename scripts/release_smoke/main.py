"""Orchestration: stand-ins up, the release binary started with them, checks, teardown."""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

from . import agents, anywhere, e2e, ops, probe, reload, shopee, signing
from .report import Results
from .service import Anfu
from .world import World


def build_world(anfu_port):
    world = World(public_url=f"http://127.0.0.1:{anfu_port}")
    world.add_taobao("tb1", "hmac-sha256")
    world.add_taobao(e2e.ACCEPTANCE_SHOP, "md5")
    world.add_taobao(ops.LOAD_SHOP, "hmac")
    world.add_rakuten("rkpoll", 338276, "poll")
    world.add_rakuten("rkpush", 338277, "push")
    world.add_rakuten(ops.EXPIRED_SHOP, 338278, "poll", expired=True)
    world.add_generic("gen1")
    ding_e2e = world.add_sinks(e2e.E2E_SHOPS)
    ding_acc = world.add_dingtalk([e2e.ACCEPTANCE_SHOP])
    return world, ding_e2e, ding_acc


WATCHDOG_S = 170


def _on_signal(signum, _frame):
    if signum == signal.SIGALRM:
        raise KeyboardInterrupt(f"watchdog: the smoke ran longer than {WATCHDOG_S}s")
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def main(argv):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(
        prog="scripts/release-smoke",
        description="Outside-in smoke of the anfu release binary against stand-ins written "
                    "from platforms.md.")
    parser.add_argument("--bin", default="target/release/anfu",
                        help="the binary (default target/release/anfu, relative to the repo)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temp dir (config, log, database) even when all pass")
    parser.add_argument("--only-shopee", action="store_true",
                        help="run only the Shopee part (its own anfu, platforms.md §7)")
    args = parser.parse_args(argv)
    os.chdir(repo)
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        print(f"FAIL binary: {binary} is not an executable file (this script does not build; "
              "run cargo build --release --locked)")
        print("release smoke: 0 passed, 1 failed")
        return 1
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, _on_signal)
    signal.alarm(WATCHDOG_S)  # every wait is bounded; this is the backstop
    results = Results()
    workdir = tempfile.mkdtemp(prefix="anfu-release-smoke-")
    anfu = world = scene = None
    crashed = False
    started = time.monotonic()
    try:
        results.check("signing-vectors", signing.vector_failures(),
                      ["platforms.md §6: TOP md5, Standard Webhooks, Chatwoot"])
        # Everything runs the binary copied alone into an empty folder, from that folder.
        binary, home = anywhere.install(binary, workdir)
        anywhere.check(results, binary, home)
        probe.check(results, binary, home, workdir)
        if not args.only_shopee:
            anfu = Anfu(binary, home, workdir, token=None)
            world, ding_e2e, ding_acc = build_world(anfu.port)
            anfu.token = world.agent_token
            world.start_standins()
            anfu.write_config(world.config(anfu.port, os.path.join(workdir, "anfu.db"))
                              + reload.export(binary, home, workdir))
            anfu.start()
            why = anfu.wait_healthy()
            results.check("starts", [why] if why else [], [f"{binary} serve on 127.0.0.1:"
                                                           f"{anfu.port}"])
            if why is None:
                run_checks(world, anfu, results, repo, workdir, ding_e2e, ding_acc)
            anfu.kill()  # stopped by check_process already; never two anfu at once
        # after the others, on its own anfu and stand-in, so it disturbs none of them
        scene = shopee.ShopeeScenario(binary, home, workdir)
        scene.run(results)
    except KeyboardInterrupt as exc:
        crashed = True
        print(f"FAIL interrupted: {exc}", flush=True)
    except Exception:  # noqa: BLE001 - a smoke bug must still tear everything down
        crashed = True
        print("FAIL smoke-crashed: " + traceback.format_exc().strip().replace("\n", "\n    "),
              flush=True)
    finally:
        signal.alarm(0)
        if anfu is not None:
            anfu.kill()
        if world is not None:
            world.stop_standins()
        if scene is not None:
            scene.close(results)
    if crashed:
        results.failed += 1
    failed = results.failed > 0
    if failed or args.keep:
        tail = anfu.log_text().splitlines()[-25:] if anfu is not None else []
        if failed and tail:
            print("--- last lines of the anfu log ---")
            print("\n".join(tail))
        print(f"kept {workdir} (anfu.toml, anfu.log, anfu.db; shopee/ the Shopee part's)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"(took {time.monotonic() - started:.1f}s)")
    print(results.summary(), flush=True)
    return 1 if failed else 0


def run_checks(world, anfu, results, repo, workdir, ding_e2e, ding_acc):
    e2e.run(world, anfu, results, repo, ding_e2e, ding_acc)
    ops.check_readiness(world, anfu, results)
    load_conv = ops.check_analyze(world, anfu, results)
    ops.check_load_reply(world, results, load_conv)
    agents.run(anfu, world, results)
    ops.check_dead_letters(anfu, results)
    reload.check(world, anfu, results, workdir)
    unexpected = [u for s in world.standins for u in s.unexpected]
    results.check("standins-no-unexpected-requests", unexpected)
    ops.check_process(anfu, results)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
