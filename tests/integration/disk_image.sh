# Sourced: make_pattern_disk FILE writes the 1 MiB (2048-sector) disk the blk guest checks:
# 16-byte lines, line k holding k zero-padded to 15 digits.
make_pattern_disk() { seq -f %015.0f 0 65535 >"$1"; }
