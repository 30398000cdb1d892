#!/usr/bin/env python3
"""api_test.py EMBER GUEST_DIR CASE: Ember's Firecracker-compatible API, driven as clients do
(curl --unix-socket, and raw HTTP where a client misbehaves). Every response body is checked
against the JSON schemas of Firecracker's swagger (schemas.json). Exit 0 pass, 1 fail, 77 skip."""
import atexit
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import jsonschema

EMBER, GUESTS, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = json.load(open(os.path.join(HERE, "schemas.json")))
WORK = tempfile.mkdtemp(prefix="ember-api-")
SOCK = os.path.join(WORK, "api.sock")


STARTED = []  # every ember this test started: killed when the test ends, however it ends


def cleanup():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


atexit.register(cleanup)


def fail(message):
    print(f"FAIL {CASE}: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def validate(body, definition):
    schema = {"$ref": f"#/definitions/{definition}", "definitions": SCHEMAS["definitions"]}
    try:
        jsonschema.validate(body, schema)
    except jsonschema.ValidationError as e:
        fail(f"{definition} does not match Firecracker's schema: {e.message} in {body}")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def request(method, path, body=None, raw=None):
    """(status, parsed body or None); errors carry a fault_message, checked here."""
    conn = UnixConnection(SOCK)
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    text = response.read()
    conn.close()
    parsed = json.loads(text) if text else None
    if response.status >= 400:
        check(parsed is not None, f"{method} {path}: {response.status} without a body")
        validate(parsed, "Error")
    return response.status, parsed


def expect(status, method, path, body=None, raw=None, fault=None):
    got, parsed = request(method, path, body, raw)
    check(got == status, f"{method} {path}: status {got}, expected {status} ({parsed})")
    if fault is not None:
        check(fault in parsed["fault_message"], f"{method} {path}: fault '{parsed['fault_message']}' lacks '{fault}'")
    return parsed


def curl(method, path, body):
    """Firecracker's getting-started form of a request; returns the HTTP status."""
    out = subprocess.run(["curl", "--silent", "--show-error", "--unix-socket", SOCK, "-i", "-X", method,
                          f"http://localhost{path}", "-H", "Accept: application/json",
                          "-H", "Content-Type: application/json", "-d", json.dumps(body),
                          "-o", "/dev/null", "-w", "%{http_code}"],
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, f"curl {method} {path}: {out.stderr.strip()}")
    return int(out.stdout)


def start_ember(*extra, serial=None):
    serial = serial or os.path.join(WORK, "serial.out")
    args = [EMBER, "--api-sock", SOCK, "--serial", f"file={serial}", *extra]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(proc)
    deadline = time.monotonic() + 10
    while not os.path.exists(SOCK):
        if proc.poll() is not None:
            fail(f"ember exited with {proc.returncode} before its socket: {proc.stderr.read()}")
        check(time.monotonic() < deadline, "the API socket did not appear")
        time.sleep(0.005)
    return proc, serial


def finish(proc, status, timeout=60):
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("ember did not end")
    err = proc.stderr.read()
    check(proc.returncode == status, f"ember ended with {proc.returncode}, expected {status}: {err}")
    check(not os.path.exists(SOCK), "the API socket outlived ember")
    return err


def wait_for(path, text, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.01)
    fail(f"'{text}' never appeared in {path}")


def boot(kernel):
    """Started with only a boot source, as the shortest Firecracker session does."""
    expect(204, "PUT", "/boot-source", {"kernel_image_path": kernel})
    expect(204, "PUT", "/actions", {"action_type": "InstanceStart"})


def guest(name):
    return os.path.join(GUESTS, f"{name}.elf")


def fds_of(proc):
    return len(os.listdir(f"/proc/{proc.pid}/fd"))


def fd_list(proc):
    fds = {}
    for fd in os.listdir(f"/proc/{proc.pid}/fd"):
        try:
            fds[fd] = os.readlink(f"/proc/{proc.pid}/fd/{fd}")
        except OSError:
            pass
    return fds


def case_getting_started():
    # Firecracker's getting-started sequence, verbatim in form: curl, one resource per call.
    disk = os.path.join(WORK, "rootfs.ext4")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    proc, serial = start_ember()
    check(curl("PUT", "/boot-source", {"kernel_image_path": guest("hello"),
                                        "boot_args": "console=ttyS0 reboot=k panic=1"}) == 204, "boot-source")
    check(curl("PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 128}) == 204, "machine-config")
    check(curl("PUT", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": disk, "is_root_device": True,
                                         "is_read_only": False}) == 204, "drives")
    if os.geteuid() == 0 and os.path.exists("/dev/net/tun"):
        check(curl("PUT", "/network-interfaces/net1", {"iface_id": "net1", "guest_mac": "06:00:AC:10:00:02",
                                                       "host_dev_name": "embapi0"}) == 204, "network-interfaces")
    config = expect(200, "GET", "/vm/config")
    validate(config, "FullVmConfiguration")
    check(config["drives"][0]["path_on_host"] == disk and config["machine-config"]["vcpu_count"] == 2,
          f"GET /vm/config does not show what was PUT: {config}")
    check(curl("PUT", "/actions", {"action_type": "InstanceStart"}) == 204, "InstanceStart")
    finish(proc, 0)
    check("Hello from the Ember test guest!" in open(serial).read(), "the guest did not print its greeting")


def case_info():
    proc, _ = start_ember("--id", "vm-7")
    info = expect(200, "GET", "/")
    validate(info, "InstanceInfo")
    check(info["state"] == "Not started" and info["id"] == "vm-7", f"GET / before start: {info}")
    validate(expect(200, "GET", "/version"), "FirecrackerVersion")
    machine = expect(200, "GET", "/machine-config")
    validate(machine, "MachineConfiguration")
    check(machine["vcpu_count"] == 1, f"default machine-config: {machine}")
    expect(204, "PATCH", "/machine-config", {"mem_size_mib": 64})
    machine = expect(200, "GET", "/machine-config")
    check(machine["mem_size_mib"] == 64 and machine["vcpu_count"] == 1, f"after PATCH: {machine}")
    expect(204, "PUT", "/machine-config", {"vcpu_count": 3, "mem_size_mib": 96, "smt": False})
    check(expect(200, "GET", "/machine-config")["vcpu_count"] == 3, "PUT /machine-config did not take")
    expect(204, "PUT", "/entropy", {})
    vsock = {"guest_cid": 3, "uds_path": os.path.join(WORK, "v.sock")}
    expect(400, "PUT", "/vsock", dict(vsock, guest_cid=2), fault="guest CID 2 is reserved")
    expect(204, "PUT", "/vsock", vsock)
    # curl asks "Expect: 100-continue" before a body over 1 KiB and waits a second for the
    # answer; Ember answers at once.
    started = time.monotonic()
    long_args = "console=ttyS0 " + "x" * 1500
    check(curl("PUT", "/boot-source", {"kernel_image_path": guest("hello"), "boot_args": long_args}) == 204,
          "a long boot-source")
    check(time.monotonic() - started < 0.9, "a body over 1 KiB waited for curl's 100-continue timeout")
    config = expect(200, "GET", "/vm/config")
    validate(config, "FullVmConfiguration")
    check(config["boot-source"]["boot_args"] == long_args, "the long boot_args did not arrive whole")
    check(config["vsock"]["guest_cid"] == 3 and config["vsock"]["uds_path"] == vsock["uds_path"],
          f"GET /vm/config vsock: {config.get('vsock')}")
    proc.terminate()
    finish(proc, 143)


def case_errors():
    proc, _ = start_ember()
    before = fds_of(proc)
    before_list = fd_list(proc)
    expect(400, "PUT", "/machine-config", raw="{not json", fault="not valid JSON")
    expect(400, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 64, "color": "red"},
           fault="unknown field 'color'")
    expect(400, "PUT", "/machine-config", {"vcpu_count": 1}, fault="missing field 'mem_size_mib'")
    expect(400, "PUT", "/machine-config", {"vcpu_count": "two", "mem_size_mib": 64}, fault="vcpu_count")
    expect(400, "PUT", "/machine-config", {"vcpu_count": 0, "mem_size_mib": 64}, fault="vcpu_count")
    expect(400, "PUT", "/boot-source", {"kernel_image_path": os.path.join(WORK, "no-such-kernel")},
           fault="No such file or directory")
    expect(400, "PUT", "/drives/a", {"drive_id": "b", "path_on_host": "/dev/null", "is_root_device": False},
           fault="the id in the path")
    expect(400, "DELETE", "/machine-config", fault="Invalid request method and/or path")
    expect(400, "POST", "/actions", {"action_type": "InstanceStart"}, fault="Invalid request method and/or path")
    expect(400, "GET", "/no/such/path", fault="Invalid request method and/or path")
    expect(400, "PUT", "/actions", {"action_type": "Reboot"}, fault="action_type")
    expect(400, "PATCH", "/vm", {"state": "Paused"}, fault="before starting")
    expect(400, "PUT", "/actions", {"action_type": "InstanceStart"}, fault="no kernel")
    big = json.dumps({"kernel_image_path": "x" * 60000})
    expect(400, "PUT", "/boot-source", raw=big, fault="larger than the limit")
    # A half-sent request holds one worker until its deadline; others are served meanwhile.
    stuck = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(3)]
    for s in stuck:
        s.connect(SOCK)
        s.sendall(b"PUT /machine-config HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"vcpu")
    started = time.monotonic()
    expect(200, "GET", "/")
    check(time.monotonic() - started < 2, "a half-sent request delayed another client")
    # 200 clients at once: every one answered.
    results = []
    def one():
        try:
            results.append(request("GET", "/")[0])
        except Exception as e:  # noqa: BLE001 - any failure is the test's
            results.append(str(e))
    threads = [threading.Thread(target=one) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(results.count(200) == 200, f"of 200 concurrent clients, {results.count(200)} got 200: "
                                     f"{[r for r in results if r != 200][:3]}")
    for s in stuck:
        s.close()
    deadline = time.monotonic() + 10
    while fds_of(proc) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    check(fds_of(proc) == before, f"ember holds {fd_list(proc)}, {before_list} before the clients")
    info = expect(200, "GET", "/")
    check(info["state"] == "Not started", f"the errors changed the VM: {info}")
    proc.terminate()
    finish(proc, 143)


def case_after_start():
    proc, serial = start_ember()
    boot(guest("idle"))
    check(expect(200, "GET", "/")["state"] == "Running", "GET / after InstanceStart is not Running")
    for path, body in [("/boot-source", {"kernel_image_path": guest("hello")}),
                       ("/machine-config", {"vcpu_count": 2, "mem_size_mib": 64}),
                       ("/drives/d", {"drive_id": "d", "path_on_host": "/dev/null", "is_root_device": False}),
                       ("/entropy", {}), ("/vsock", {"guest_cid": 3, "uds_path": os.path.join(WORK, "late.sock")})]:
        expect(400, "PUT", path, body, fault="after starting the microVM")
    expect(400, "PUT", "/actions", {"action_type": "InstanceStart"}, fault="after starting the microVM")
    expect(204, "PATCH", "/vm", {"state": "Paused"})
    check(expect(200, "GET", "/")["state"] == "Paused", "GET / after Paused")
    expect(204, "PATCH", "/vm", {"state": "Resumed"})
    check(expect(200, "GET", "/")["state"] == "Running", "GET / after Resumed")
    proc.terminate()
    finish(proc, 143)


def case_pause_resume():
    # The counter guest prints tick 0..999 and resets; paused, it prints nothing; resumed, the
    # whole sequence still arrives, in order.
    proc, serial = start_ember()
    boot(guest("counter"))
    wait_for(serial, "tick 20\n")
    expect(204, "PATCH", "/vm", {"state": "Paused"})
    held = os.path.getsize(serial)
    time.sleep(0.3)  # not synchronisation: the span in which a paused guest must stay silent
    check(os.path.getsize(serial) == held, "the guest printed while paused")
    check(expect(200, "GET", "/")["state"] == "Paused", "GET / while paused")
    expect(204, "PATCH", "/vm", {"state": "Resumed"})
    finish(proc, 0)
    lines = open(serial).read().splitlines()
    ticks = [line for line in lines if line.startswith("tick ")]
    check(ticks == [f"tick {i}" for i in range(1000)], f"ticks lost or reordered ({len(ticks)} of 1000)")


def case_ctrl_alt_del():
    # SendCtrlAltDel presses and releases the keys on the i8042's keyboard: the keyboard guest
    # probes it as Linux does, then prints what arrives with interrupt 1 on and resets.
    proc, serial = start_ember()
    expect(400, "PUT", "/actions", {"action_type": "SendCtrlAltDel"}, fault="before starting the microVM")
    boot(guest("keyboard"))
    wait_for(serial, "keyboard: ready\n")
    check(curl("PUT", "/actions", {"action_type": "SendCtrlAltDel"}) == 204, "SendCtrlAltDel through curl")
    finish(proc, 0)
    out = open(serial).read()
    check("keyboard: keys 14 11 e0 71 e0 f0 71 f0 11 f0 14\n" in out, f"the guest's keys: {out!r}")
    check("FAILED" not in out and "keyboard: interrupt 1 raised: ok" in out, f"the guest's checks: {out!r}")


def pattern_disk(name, lines):
    """A disk filled as the blk guest expects: 16-byte lines, line k holds the number k."""
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.writelines(f"{k:015d}\n" for k in range(lines))
    return path


def watch_drive(disk):
    """Ember with the blk guest on `disk`, started and waiting for its capacity to change."""
    proc, serial = start_ember("--virtio-mmio-cmdline")  # the test guests find devices there
    expect(400, "PATCH", "/drives/d0", {"drive_id": "d0", "path_on_host": disk}, fault="before starting the microVM")
    expect(204, "PUT", "/drives/d0", {"drive_id": "d0", "path_on_host": disk, "is_root_device": False})
    expect(204, "PUT", "/boot-source", {"kernel_image_path": guest("blk"), "boot_args": "blk.watch=1"})
    expect(204, "PUT", "/actions", {"action_type": "InstanceStart"})
    wait_for(serial, "blk: watching\n")
    return proc, serial


def case_patch_drive():
    # After boot, PATCH /drives/{id} gives the drive another file: the guest sees the
    # configuration change (interrupt, new capacity) and reads the new file. Refused patches
    # change nothing (the guest would see a generation change and end).
    small, large = pattern_disk("small.img", 2048), pattern_disk("large.img", 8192)
    proc, serial = watch_drive(small)
    for body, fault in [({"drive_id": "d1", "path_on_host": large}, "not the one in the body"),
                        ({"path_on_host": large}, "drive_id"),
                        ({"drive_id": "d0", "path_on_host": large, "is_read_only": True}, "is_read_only"),
                        ({"drive_id": "d0", "path_on_host": os.path.join(WORK, "missing.img")}, "missing.img"),
                        ({"drive_id": "d0", "rate_limiter": {"bandwidth": {"size": 1000, "refill_time": 100}}},
                         "rate limiting")]:
        expect(400, "PATCH", "/drives/d0", body, fault=fault)
    expect(400, "PATCH", "/drives/nope", {"drive_id": "nope", "path_on_host": large}, fault="does not exist")
    expect(400, "PATCH", "/network-interfaces/n0", {"iface_id": "n0"}, fault="does not exist")
    expect(204, "PATCH", "/drives/d0", {"drive_id": "d0"})  # nothing to change
    check(expect(200, "GET", "/vm/config")["drives"][0]["path_on_host"] == small, "a refused PATCH changed the path")
    check(curl("PATCH", "/drives/d0", {"drive_id": "d0", "path_on_host": large}) == 204, "PATCH /drives through curl")
    finish(proc, 0)
    out = open(serial).read()
    check("blk: capacity now 256 sectors\n" in out and "FAILED" not in out, f"the guest: {out!r}")


def case_patch_drive_resized():
    # The same path again after the file grew: the drive's size is read again.
    disk = pattern_disk("disk.img", 2048)
    proc, serial = watch_drive(disk)
    with open(disk, "a") as f:
        f.writelines(f"{k:015d}\n" for k in range(2048, 4096))
    expect(204, "PATCH", "/drives/d0", {"drive_id": "d0", "path_on_host": disk})
    finish(proc, 0)
    out = open(serial).read()
    check("blk: capacity now 128 sectors\n" in out and "FAILED" not in out, f"the guest: {out!r}")


def case_config_file():
    config = os.path.join(WORK, "vm.json")
    log = os.path.join(WORK, "ember.log")
    metrics = os.path.join(WORK, "metrics.json")
    with open(config, "w") as f:
        json.dump({"boot-source": {"kernel_image_path": guest("hello"), "boot_args": "console=ttyS0"},
                   "machine-config": {"vcpu_count": 1, "mem_size_mib": 64},
                   "drives": [], "logger": {"log_path": log, "level": "Info", "show_level": True},
                   "metrics": {"metrics_path": metrics}}, f)
    serial = os.path.join(WORK, "serial.out")
    out = subprocess.run([EMBER, "--config-file", config, "--serial", f"file={serial}"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"--config-file boot ended with {out.returncode}: {out.stderr}")
    check("Hello from the Ember test guest!" in open(serial).read(), "no greeting from the config-file boot")
    check("VM stopped" in open(log).read(), "the logger's file has no line about the VM's end")
    # The same document with an unknown field: one line naming it, status 2, nothing booted.
    with open(config, "w") as f:
        json.dump({"boot-source": {"kernel_image_path": guest("hello")}, "machine-config":
                   {"vcpu_count": 1, "mem_size_mib": 64, "vcpus": 2}}, f)
    out = subprocess.run([EMBER, "--config-file", config], capture_output=True, text=True, timeout=60)
    check(out.returncode == 2, f"a bad config file ended with {out.returncode}")
    check(out.stderr.count("\n") == 1 and "unknown field 'vcpus'" in out.stderr, f"stderr: {out.stderr!r}")
    out = subprocess.run([EMBER, "--config-file", os.path.join(WORK, "missing.json")],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 2 and "No such file or directory" in out.stderr, f"missing file: {out.stderr!r}")


def case_config_file_and_api():
    # Both: the VM boots from the document at once, and the API serves the running VM.
    config = os.path.join(WORK, "vm.json")
    with open(config, "w") as f:
        json.dump({"boot-source": {"kernel_image_path": guest("idle")},
                   "machine-config": {"vcpu_count": 1, "mem_size_mib": 64}}, f)
    proc, _ = start_ember("--config-file", config)
    deadline = time.monotonic() + 10
    while expect(200, "GET", "/")["state"] != "Running":
        check(time.monotonic() < deadline, "the config-file VM never ran")
        time.sleep(0.01)
    expect(400, "PUT", "/boot-source", {"kernel_image_path": guest("hello")}, fault="after starting the microVM")
    check(expect(200, "GET", "/machine-config")["mem_size_mib"] == 64, "machine-config is not the document's")
    proc.terminate()
    finish(proc, 143)


def case_metrics_logger():
    proc, _ = start_ember()
    log = os.path.join(WORK, "api.log")
    metrics = os.path.join(WORK, "metrics.json")
    expect(400, "PUT", "/actions", {"action_type": "FlushMetrics"}, fault="PUT /metrics first")
    expect(204, "PUT", "/metrics", {"metrics_path": metrics})
    expect(400, "PUT", "/metrics", {"metrics_path": metrics}, fault="already set")
    expect(204, "PUT", "/logger", {"log_path": log, "level": "Debug", "show_level": True})
    expect(400, "PUT", "/logger", {"level": "Loud"}, fault="level")
    expect(204, "PUT", "/actions", {"action_type": "FlushMetrics"})
    line = json.loads(open(metrics).read().splitlines()[-1])
    check(isinstance(line.get("utc_timestamp_ms"), int) and line["api_server"]["requests"] >= 5,
          f"metrics line: {line}")
    proc.terminate()
    finish(proc, 143)
    check("stopped by" in open(log).read(), "the log file did not get the stop message")


def case_metrics_counters():
    # The rng guest reads entropy and ends; the metrics line written at exit has its counts.
    metrics = os.path.join(WORK, "metrics.json")
    proc, _ = start_ember("--debug-exit", "--virtio-mmio-cmdline")
    expect(204, "PUT", "/metrics", {"metrics_path": metrics})
    boot(guest("rng"))
    finish(proc, 1)
    line = json.loads(open(metrics).read().splitlines()[-1])
    rng = line["devices"].get("rng0", {})
    check(rng.get("type") == "entropy" and rng.get("bytes", 0) > 0 and rng.get("requests", 0) > 0,
          f"rng0 in the last metrics line: {rng}")
    exits = line["vcpus"][0]["exits"]
    check(exits["io"] > 0 and exits["mmio"] > 0, f"vCPU 0 exits: {exits}")
    # Prometheus text on GET /metrics, from a running VM.
    proc, serial = start_ember("--virtio-mmio-cmdline", "--console", "off")
    boot(guest("idle"))
    wait_for(serial, "idle: ready")
    conn = UnixConnection(SOCK)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    text = response.read().decode()
    check(response.status == 200 and response.getheader("Content-Type", "").startswith("text/plain"),
          f"GET /metrics: {response.status} {response.getheader('Content-Type')}")
    io = [line for line in text.splitlines() if line.startswith('ember_vcpu_exits_total{vcpu="0",reason="io"}')]
    check(io and int(io[0].split()[-1]) > 0, f"no vCPU 0 io exits in:\n{text}")
    check('ember_device_counter{device="rng0",type="entropy",counter="bytes"}' in text, f"no rng0 bytes in:\n{text}")
    check('ember_api_requests_total{status="204"}' in text, "no API request counts")
    proc.terminate()
    finish(proc, 143)


def case_socket_taken():
    open(SOCK, "w").close()
    out = subprocess.run([EMBER, "--api-sock", SOCK], capture_output=True, text=True, timeout=30)
    check(out.returncode == 10, f"a taken socket path ended with {out.returncode}")
    check(out.stderr.count("\n") == 1 and "exists" in out.stderr, f"stderr: {out.stderr!r}")
    check(os.path.exists(SOCK), "ember removed a file it did not create")


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}
if CASE not in CASES:
    fail(f"no case {CASE}; cases: {' '.join(CASES)}")
if not os.access("/dev/kvm", os.R_OK | os.W_OK):
    print("SKIP: /dev/kvm is not usable")
    sys.exit(77)
CASES[CASE]()
print(f"PASS {CASE}")
