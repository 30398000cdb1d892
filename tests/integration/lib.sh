# Helpers for the integration tests (sourced). A test prints what it checked and exits 0,
# exits 1 with the reason on failure, or 77 (CTest SKIP_RETURN_CODE) with the reason.

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# The tests that run guests need the host's KVM. A host without one (a machine that is itself
# a guest without nested virtualisation: there the kernel's kvm module loads but offers no
# /dev/kvm) skips them, saying so; the Linux suite and the arm64 suite run nested under QEMU's
# TCG and still run there. A script that needs no KVM sets LIB_NO_KVM=1 before sourcing this.
have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
[ -n "${LIB_NO_KVM:-}" ] || have_kvm || skip "no usable /dev/kvm on this host: this test runs guests on the host's KVM"

expect_eq() { # what expected actual
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# Runs "$@" with a wall-clock bound (a hung VMM is a failure, not a stuck CI).
bounded() { timeout --kill-after=5 "${TEST_TIMEOUT:-60}" "$@"; }

# wait_for_socket PATH WHAT [TRIES]: waits until PATH is a socket (TRIES x 50 ms, default 100),
# or fails naming WHAT.
wait_for_socket() {
    for _ in $(seq "${3:-100}"); do [ -S "$1" ] && return; sleep 0.05; done
    fail "$2 did not create its socket $1"
}

# wait_for_output FILE PATTERN WHAT [TRIES]: waits until a line of FILE matches PATTERN (grep -E;
# TRIES x 50 ms, default 200), or fails naming WHAT.
wait_for_output() {
    for _ in $(seq "${4:-200}"); do grep -Eq "$2" "$1" 2>/dev/null && return; sleep 0.05; done
    fail "$3 never printed '$2': $(cat "$1" 2>/dev/null)"
}

# wait_for_vm PID SERIAL PATTERN WHAT ERRFILE: waits (up to 60 s, a loaded CI host is slow) until
# the VM whose process is PID prints a line matching PATTERN into SERIAL; fails at once, with
# the VMM's stderr, if it exits first.
wait_for_vm() {
    for _ in $(seq 1200); do
        grep -Eq "$3" "$2" 2>/dev/null && return
        kill -0 "$1" 2>/dev/null || { wait "$1"; fail "$4 exited with $? before printing '$3': $(cat "$5")"; }
        sleep 0.05
    done
    fail "$4 never printed '$3' in 60 s: $(cat "$2") $(cat "$5")"
}

# field_of PID TID NAME: one field of a thread's /proc status.
field_of() { awk -v f="$3:" '$1 == f { print $2 }' "/proc/$1/task/$2/status" 2>/dev/null; }

# The QEMU microvm command line equivalent to Ember's, for the differential tests.
QEMU_MICROVM=(qemu-system-x86_64 -accel kvm -M microvm -nodefaults -no-user-config -nographic
              -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot)

# run_virtio_both DIR EMBER GUEST [EMBER ARGS...] -- [QEMU ARGS...]
# Runs a virtio test guest under Ember and under QEMU microvm with acpi=off (QEMU then
# announces its virtio-mmio devices on the command line, as Ember does). Leaves the serial
# output, CRs removed, in DIR/ember.txt and DIR/qemu.txt; sets EMBER_STATUS and QEMU_STATUS.
run_virtio_both() {
    local dir=$1 ember=$2 guest=$3
    shift 3
    local ember_args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do ember_args+=("$1"); shift; done
    shift
    bounded "$ember" --debug-exit --virtio-mmio-cmdline --kernel "$guest" "${ember_args[@]}" </dev/null >"$dir/ember.raw" 2>"$dir/ember.err"
    EMBER_STATUS=$?
    bounded "${QEMU_MICROVM[@]/#microvm/microvm,acpi=off}" -kernel "$guest" -append "console=ttyS0" \
        -global virtio-mmio.force-legacy=false "$@" </dev/null >"$dir/qemu.raw" 2>"$dir/qemu.err"
    QEMU_STATUS=$?
    cat "$dir/ember.err" >&2
    tr -d '\r' <"$dir/ember.raw" >"$dir/ember.txt"
    tr -d '\r' <"$dir/qemu.raw" >"$dir/qemu.txt"
}

# in_fresh_netns PREFIX: skips unless root with TAP devices, ip and ping; then makes a network
# namespace (lo up) and a scratch DIR, both removed at exit with the VMM in $pid (if set).
# Defines in_ns COMMAND... to run a command in the namespace; sets ns, dir, pid.
in_fresh_netns() {
    [ "$(id -u)" = 0 ] || skip "needs root for a network namespace and TAP devices"
    [ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
    command -v ip >/dev/null && command -v ping >/dev/null || skip "needs ip and ping (scripts/setup.sh installs them)"
    ns=$1-$$
    ip netns add "$ns" || skip "cannot create a network namespace here"
    dir=$(mktemp -d)
    pid=
    trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$dir"' EXIT
    ip netns exec "$ns" ip link set lo up
}
in_ns() { ip netns exec "$ns" "$@"; }
