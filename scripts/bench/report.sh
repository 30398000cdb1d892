#!/usr/bin/env bash
# report.sh RAW_CSV OUT_DIR: turns run.sh's numbers (metric,vmm,value) into OUT_DIR/results.md
# (a table with the ratios and goals, then the device-path tables) and OUT_DIR/ratios.png.
set -euo pipefail
csv=$1 out=$2
md=$out/results.md
value() { awk -F, -v m="$1" -v v="$2" '$1 == m && $2 == v {print $3}' "$csv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.3f", a / b }'; }
goal() {
    case $1 in
    first_byte_ms_*|exit_ms_*) echo "<= 0.1x QEMU, <= 2x raw" ;;
    pio_exit_cycles) echo "<= 1.10x raw" ;;
    rss_kib_*|pss_kib_*) echo "< 2048 KiB" ;;
    vms_per_s_*) echo ">= 50/s" ;;
    idle_cpu_pct_*) echo "~0 (no measurable CPU)" ;;
    sigterm_exit_ms_*) echo "-" ;;
    restore_first_output_ms_*) echo "< 5 ms whatever the size" ;;
    snapshot_write_ms_*) echo "raw: dd of the same size" ;;
    api_socket_ready_ms) echo "<= 2 ms" ;;
    api_boot_first_byte_ms_*) echo "<= cli_boot + 1 ms" ;;
    linux_nested_virtiofs_*) echo "nested TCG: ratio only; raw: the read in L1" ;;
    linux_nested_*) echo "nested TCG: ratio only" ;;
    *) echo "-" ;;
    esac
}
{
    echo "# Ember benchmarks"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r), $(qemu-system-x86_64 --version | head -1)."
    echo "Medians of alternating runs; *raw* is scripts/bench/raw_kvm.c, the least a VMM can do per exit."
    echo
    echo "| metric | Ember | QEMU microvm | raw KVM | Ember/QEMU | Ember/raw | goal |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
    for metric in $(awk -F, 'NR > 1 {print $1}' "$csv" | awk '!seen[$0]++'); do
        e=$(value "$metric" ember) q=$(value "$metric" qemu) r=$(value "$metric" raw)
        echo "| $metric | $e | $q | ${r:--} | $(ratio "$e" "$q") | $(ratio "$e" "$r") | $(goal "$metric") |"
        printf '%s %s %s\n' "$metric" "$(ratio "$e" "$q")" "$(ratio "$e" "$r")" >>"$out/ratios.dat.tmp"
    done
    echo
    echo "Units: ms for times, TSC cycles per exit inside the guest, KiB of the VMM's own RSS/PSS"
    echo "(guest RAM excluded), VMs started and finished per second."
    for f in blk transport net; do
        [ -f "$out/$f.txt" ] || continue
        echo
        echo "## $f device path (device vs the same host syscalls, same run)"
        echo
        echo '```'
        cat "$out/$f.txt"
        echo '```'
    done
} >"$md"
sed 's/ - / ? /g' "$out/ratios.dat.tmp" >"$out/ratios.dat" && rm -f "$out/ratios.dat.tmp"
if ! command -v gnuplot >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null 2>&1 || true
fi
if command -v gnuplot >/dev/null; then
    gnuplot <<PLOT
set terminal pngcairo size 1100,520 noenhanced
set output "$out/ratios.png"
set title "Ember relative to QEMU microvm and to a raw KVM loop (lower is better; higher for vms_per_s)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ratio (log scale)"
set xtics rotate by -30
set datafile missing "?"
set grid ytics
plot "$out/ratios.dat" using 2:xtic(1) title "Ember / QEMU", "" using 3 title "Ember / raw", 1 with lines dt 2 lc rgb "black" title "1.0"
PLOT
    echo "report: $md, $out/ratios.png"
else
    echo "report: $md (no gnuplot: no plot)"
fi
