#!/usr/bin/env bash
# run.sh: Ember side by side with QEMU microvm and a raw KVM loop (scripts/bench/raw_kvm.c, the
# limit on this host) in one run: alternating A/B/C runs, medians, ratios. Writes a Markdown
# table, the raw numbers and a PNG plot (gnuplot) to bench-results/. A benchmark, not a test:
# it reports, it never fails on a number.
#   RUNS (default 11) startup runs per VMM; EXIT_RUNS (3) runs of the exits guest;
#   EXIT_COUNT (100000) exits per metric; RATE_SECONDS (10) per VM-rate measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-11} exit_runs=${EXIT_RUNS:-3} exit_count=${EXIT_COUNT:-100000} rate_seconds=${RATE_SECONDS:-10}
command -v qemu-system-x86_64 >/dev/null || { echo "run.sh: needs qemu-system-x86_64 (scripts/setup.sh)" >&2; exit 1; }
dir=$(scripts/build.sh release | tail -n 1)
g=$dir/tests/guests b=$dir/scripts/bench
out=bench-results
mkdir -p "$out"
raw_csv=$out/raw.csv
echo "metric,vmm,value" >"$raw_csv"

qemu_cmd=(qemu-system-x86_64 -accel kvm -M microvm -nodefaults -no-user-config -nographic -serial stdio
          -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot)
# vmm_command VMM GUEST MEMORY_MIB [CPUS]: the command line for that VMM (as words, one per line).
vmm_command() {
    local vmm=$1 guest=$2 mib=$3 cpus=${4:-1}
    case $vmm in
    ember) printf '%s\n' "$dir/ember" --debug-exit --kernel "$guest" --memory "${mib}M" --cpus "$cpus" ;;
    ember_pit_off) vmm_command ember "$guest" "$mib" "$cpus"; printf '%s\n' --pit off ;;
    qemu) printf '%s\n' "${qemu_cmd[@]}" -m "${mib}M" -smp "$cpus" -kernel "$guest" ;;
    raw) printf '%s\n' "$b/bench_raw_kvm" "$guest" "$mib" ;;
    esac
}
field() { sed -En "s/(^|.* )$1=([0-9.-]*).*/\2/p" <<<"$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
median_ms() { awk -v u="$(median "$@")" 'BEGIN{printf "%.2f", u/1000}'; }  # of microseconds
record() { echo "$1,$2,$3" >>"$raw_csv"; }
# record_variant METRIC VARIANT_VALUE: a row for Ember with --pit off, next to the same run's
# QEMU and raw numbers for METRIC.
record_variant() {
    record "$1_pit_off" ember "$2"
    for vmm in qemu raw; do record "$1_pit_off" $vmm "$(awk -F, -v m="$1" -v v=$vmm '$1 == m && $2 == v {print $3}' "$raw_csv")"; done
}

# --- exec -> first serial byte, exec -> exit (hello guest) --------------------------------
for mib in 64 1024; do
    unset first done_
    declare -A first=() done_=()
    for ((i = 0; i < runs; i++)); do
        for vmm in ember qemu raw ember_pit_off; do
            mapfile -t cmd < <(vmm_command $vmm "$g/hello.elf" $mib)
            r=$("$b/bench_first_byte" -- "${cmd[@]}" 2>/dev/null)
            first[$vmm]+="$(field first_byte_us "$r") " done_[$vmm]+="$(field exit_us "$r") "
        done
    done
    for vmm in ember qemu raw; do
        record "first_byte_ms_${mib}M" $vmm "$(median_ms ${first[$vmm]})"
        record "exit_ms_${mib}M" $vmm "$(median_ms ${done_[$vmm]})"
    done
    record_variant "exit_ms_${mib}M" "$(median_ms ${done_[ember_pit_off]})"
done

# --- exit round trips (exits guest: port I/O, MMIO read, ioeventfd notify) -------------------
declare -A cycles=()
for ((i = 0; i < exit_runs; i++)); do
    for vmm in ember qemu raw; do
        case $vmm in
        ember) r=$("$dir/ember" --debug-exit --virtio-mmio-cmdline --kernel "$g/exits.elf" --memory 64M --cmdline "exits.count=$exit_count" </dev/null 2>/dev/null || true) ;;
        qemu) r=$("${qemu_cmd[@]/#microvm/microvm,acpi=off}" -m 64M -kernel "$g/exits.elf" -append "exits.count=$exit_count" \
                 -global virtio-mmio.force-legacy=false -object rng-random,id=rng0,filename=/dev/urandom \
                 -device virtio-rng-device,rng=rng0 </dev/null 2>/dev/null || true) ;;
        raw) r=$("$b/bench_raw_kvm" "$g/exits.elf" 64 "exits.count=$exit_count virtio_mmio.device=4K@0xd0000000:5" || true) ;;
        esac
        for kind in pio mmio notify; do
            cycles[$kind.$vmm]+="$(sed -n "s/^$kind: \([0-9]*\) cycles per exit.*/\1/p" <<<"${r//$'\r'/}") "
        done
    done
done
for kind in pio mmio notify; do
    for vmm in ember qemu raw; do record "${kind}_exit_cycles" $vmm "$(median ${cycles[$kind.$vmm]})"; done
done

# --- VMM memory: RSS and PSS without guest RAM (echo guest, 64 MiB) -------------------------
for cpus in 1 4; do
    for vmm in ember qemu raw; do
        [ $vmm = raw ] && [ $cpus != 1 ] && continue
        mapfile -t cmd < <(vmm_command $vmm "$g/echo.elf" 64 $cpus)
        r=$("$b/bench_vmm_memory" 64 -- "${cmd[@]}" 2>/dev/null)
        record "rss_kib_${cpus}cpu" $vmm "$(field rss_kb "$r")"
        record "pss_kib_${cpus}cpu" $vmm "$(field pss_kb "$r")"
    done
done

# --- VM creation rate: hello guest start to exit, sequential and 2 at a time ---------------
for parallel in 1 2; do
    for vmm in ember qemu raw ember_pit_off; do
        mapfile -t cmd < <(vmm_command $vmm "$g/hello.elf" 64)
        r=$("$b/bench_vm_rate" "$rate_seconds" $parallel -- "${cmd[@]}" || true)
        if [ $vmm = ember_pit_off ]; then
            record_variant "vms_per_s_x${parallel}" "$(field vms_per_s "$r")"
        else
            record "vms_per_s_x${parallel}" $vmm "$(field vms_per_s "$r")"
        fi
    done
done

# --- device paths (ratios against the host syscalls, from their own benchmarks) ------------
for where in /dev/shm /var/tmp; do
    echo "== $where"
    "$b/bench_blk_path" "$where/ember-run-bench.img" 1
done | tee "$out/blk.txt"
# The same device path through each transport's registers and interrupts (MMIO, PCI MSI-X).
"$b/bench_transport_path" /dev/shm/ember-transport-bench.img 3 | tee "$out/transport.txt"
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
    scripts/bench/net.sh 1 | tee "$out/net.txt"
else
    echo "net: skipped (needs root for a TAP)" | tee "$out/net.txt"
fi

# --- idle CPU: VMs whose guests posted buffers on every device and halted --------------------
# CPU time (user + system) of the Ember processes over IDLE_SECONDS, per VM, in % of a core.
idle_seconds=${IDLE_SECONDS:-5}
for count in 1 10; do
    pids=()
    for ((i = 0; i < count; i++)); do
        truncate -s 1M "$out/idle-$i.img"
        "$dir/ember" --virtio-mmio-cmdline --kernel "$g/idle.elf" --console file=/dev/null \
            --disk "path=$out/idle-$i.img" --memory 64M </dev/null >"$out/idle-$i.out" 2>/dev/null &
        pids+=($!)
    done
    for ((i = 0; i < count; i++)); do
        for _ in $(seq 300); do grep -q "idle: ready" "$out/idle-$i.out" && break; sleep 0.1; done
    done
    ticks() { local t=0 p; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
    before=$(ticks)
    sleep "$idle_seconds"
    after=$(ticks)
    kill -TERM "${pids[@]}"
    wait "${pids[@]}" 2>/dev/null || true
    rm -f "$out"/idle-*.img "$out"/idle-*.out
    record "idle_cpu_pct_per_vm_x${count}" ember \
        "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$idle_seconds" -v n="$count" 'BEGIN{printf "%.3f", 100 * t / hz / s / n}')"
done

# --- the API: exec -> socket ready, InstanceStart -> first serial byte, and the whole API boot
# against the same boot from the command line (hello guest, 64 MiB), alternating -------------
unset api_ready api_start api_first cli_first
declare -a api_ready=() api_start=() api_first=() cli_first=()
for ((i = 0; i < runs; i++)); do
    r=$("$b/bench_api_start" "$dir/ember" "$g/hello.elf" 64 "$out/api.sock")
    api_ready+=("$(field socket_ready_us "$r")") api_start+=("$(field start_to_first_byte_us "$r")")
    api_first+=("$(field first_byte_us "$r")")
    mapfile -t cmd < <(vmm_command ember "$g/hello.elf" 64)
    cli_first+=("$(field first_byte_us "$("$b/bench_first_byte" -- "${cmd[@]}" 2>/dev/null)")")
done
record api_socket_ready_ms ember "$(median_ms "${api_ready[@]}")"
record api_instance_start_to_first_byte_ms ember "$(median_ms "${api_start[@]}")"
record api_boot_first_byte_ms_64M ember "$(median_ms "${api_first[@]}")"
record cli_boot_first_byte_ms_64M ember "$(median_ms "${cli_first[@]}")"

# --- snapshots: restore -> first guest output, snapshot write against dd of the same size ----
# The echo guest, snapshotted through the API while it polls its serial port; each restore
# (--restore, a new process) gets one byte on stdin, which the guest echoes at once: the first
# byte's time is exec -> restored guest running. The write: PUT /snapshot/create's time for the
# guest's RAM (mostly untouched, so mostly holes) next to dd writing that many bytes (raw).
snap_api() { curl -sS -o /dev/null --unix-socket "$out/snap.sock" -X "$1" "http://localhost$2" -d "$3"; }
for mib in 128 1024; do
    rm -f "$out/snap.sock" "$out/snap.out"
    "$dir/ember" --debug-exit --api-sock "$out/snap.sock" --serial "file=$out/snap.out" </dev/null 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do [ -S "$out/snap.sock" ] && break; sleep 0.05; done
    snap_api PUT /boot-source "{\"kernel_image_path\": \"$g/echo.elf\"}"
    snap_api PUT /machine-config "{\"vcpu_count\": 1, \"mem_size_mib\": $mib}"
    snap_api PUT /actions '{"action_type": "InstanceStart"}'
    for _ in $(seq 100); do grep -q ready "$out/snap.out" && break; sleep 0.05; done
    snap_api PATCH /vm '{"state": "Paused"}'
    t0=$(date +%s%N)
    snap_api PUT /snapshot/create "{\"snapshot_path\": \"$out/vm.snap\", \"mem_file_path\": \"$out/vm.mem\"}"
    record "snapshot_write_ms_${mib}M" ember "$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN{printf "%.2f", ns/1e6}')"
    kill -KILL $pid; wait $pid 2>/dev/null || true
    t0=$(date +%s%N)
    dd if=/dev/zero of="$out/dd.img" bs=1M count=$mib conv=fsync status=none
    record "snapshot_write_ms_${mib}M" raw "$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN{printf "%.2f", ns/1e6}')"
    rm -f "$out/dd.img"
    restores=()
    for ((i = 0; i < runs; i++)); do
        r=$("$b/bench_first_byte" -- "$dir/ember" --restore "snapshot=$out/vm.snap,memory=$out/vm.mem" \
              < <(printf 'x.') 2>/dev/null)
        restores+=("$(field first_byte_us "$r")")
    done
    record "restore_first_output_ms_${mib}M" ember "$(median_ms "${restores[@]}")"
    rm -f "$out/vm.snap" "$out/vm.mem"
done

# --- live migration: total time and downtime (paused -> the receiver runs it) for a 256 MiB
# guest that keeps rewriting it (the counter guest, counter.mem=256 counter.churn=1: every tick
# rewrites 1/64 of it), over a UNIX socket, as the sender logs them ---------------------------
totals=() downtimes=()
for ((i = 0; i < runs; i++)); do
    rm -f "$out/mig-s.sock" "$out/mig-r.sock"
    "$dir/ember" --migrate-from "unix:$out/mig-r.sock" --serial file=/dev/null </dev/null 2>/dev/null &
    receiver=$!
    "$dir/ember" --api-sock "$out/mig-s.sock" --serial "file=$out/mig.out" --log-level info </dev/null 2>"$out/mig.err" &
    sender=$!
    for _ in $(seq 100); do [ -S "$out/mig-s.sock" ] && [ -S "$out/mig-r.sock" ] && break; sleep 0.05; done
    mig_api() { curl -sS -o /dev/null --unix-socket "$out/mig-s.sock" -X "$1" "http://localhost$2" -d "$3"; }
    mig_api PUT /boot-source "{\"kernel_image_path\": \"$g/counter.elf\", \"boot_args\": \"console=ttyS0 counter.mem=256 counter.churn=1\"}"
    mig_api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 512}'
    mig_api PUT /actions '{"action_type": "InstanceStart"}'
    for _ in $(seq 600); do grep -q "^tick 1" "$out/mig.out" && break; sleep 0.05; done
    mig_api PUT /migrate "{\"destination_url\": \"unix:$out/mig-r.sock\"}"
    wait $sender 2>/dev/null || true
    wait $receiver 2>/dev/null || true
    totals+=("$(sed -n 's/.* \([0-9]*\) ms in all.*/\1/p' "$out/mig.err" | head -1)000")
    downtimes+=("$(sed -n 's/.*paused \([0-9]*\) ms.*/\1/p' "$out/mig.err" | head -1)000")
done
record migration_total_ms_256M ember "$(median_ms "${totals[@]}")"
record migration_downtime_ms_256M ember "$(median_ms "${downtimes[@]}")"
rm -f "$out/mig.out" "$out/mig.err"

# --- SIGTERM -> exit while the busy guest keeps disk, rng and console saturated ----------------
latencies=()
truncate -s 8M "$out/busy.img"
for ((i = 0; i < runs; i++)); do
    "$dir/ember" --virtio-mmio-cmdline --kernel "$g/busy.elf" --disk "path=$out/busy.img" \
        --console file=/dev/null --memory 64M </dev/null >"$out/busy.out" 2>/dev/null &
    pid=$!
    for _ in $(seq 300); do grep -q "busy: running" "$out/busy.out" && break; sleep 0.1; done
    t0=$(date +%s%N)
    kill -TERM $pid
    wait $pid || true
    latencies+=($((($(date +%s%N) - t0) / 1000)))
done
rm -f "$out/busy.img" "$out/busy.out"
record sigterm_exit_ms_saturated ember "$(median_ms "${latencies[@]}")"

# --- Linux boot, nested (tests/linux: Debian's cloud kernel inside an L1 under QEMU TCG) -----
# TCG time inside L1, so only the ratio means much; LINUX=0 skips it.
if [ "${LINUX:-1}" = 1 ]; then
    # On both transports (bench@pci: Ember --transport pci, QEMU microvm pcie=on).
    EMBER_LINUX_CASES="bench bench@pci" EMBER_GUEST_EXIT=$dir/ember-guest-exit \
        tests/linux/run_suite.sh "$dir/ember" "$out/linux" >/dev/null 2>&1 || true
    # The virtio-fs read's "raw" column is the same read of the same file by L1 itself.
    for transport in mmio pci; do
        suffix=${transport/mmio/}
        for metric in first_userspace_ms exit_ms test_status_ms virtiofs_read_64mib_ms blk_dd_write_64mib_ms \
                      blk_dd_read_64mib_ms net_tcp_64mib_ms; do
            for vmm in ember qemu host; do
                values=$(sed -n "s/^BENCH vmm=$vmm transport=$transport .*$metric=\([0-9]*\).*/\1/p" \
                    "$out/linux/suite.log" 2>/dev/null)
                [ -n "$values" ] && record "linux_nested_${metric}${suffix:+_pci}" "${vmm/host/raw}" "$(median $values)"
            done
        done
    done
fi

scripts/bench/report.sh "$raw_csv" "$out"
