# arm64_programs.sh (sourced): Debian's arm64 programs, with the shared libraries their loader
# needs, for the arm64 L1 and its guests, which have no package manager: the packages are
# downloaded once (apt-get download, multiarch lists) and unpacked into a staging tree;
# copy_arm64 then takes one program and, following the DT_NEEDED entries (readelf), every
# library it loads, and the loader.

# unpack_arm64 CACHE STAGE PACKAGE...: each PACKAGE:arm64 unpacked into STAGE, the .deb files
# kept in CACHE. Named one by one, the libraries' packages too (copy_arm64 names a library
# none of them has): the programs' whole Depends closure is five times the download.
# The missing ones are fetched by one apt-get (one at a time, a cold cache took minutes).
unpack_arm64() {
    local cache=$1 stage=$2 p missing=()
    shift 2
    mkdir -p "$cache" "$stage"
    for p in "$@"; do
        ls "$cache/${p}"_*_arm64.deb >/dev/null 2>&1 || missing+=("$p:arm64")
    done
    if [ ${#missing[@]} -gt 0 ] && ! (cd "$cache" && apt-get download -q "${missing[@]}" >/dev/null 2>&1); then
        echo "unpack_arm64: apt-get download ${missing[*]} failed" >&2
        return 1
    fi
    for p in "$@"; do
        dpkg-deb -x "$(ls "$cache/${p}"_*_arm64.deb | head -n 1)" "$stage"
    done
}

# copy_arm64 STAGE ROOT DIR PROGRAM: STAGE's PROGRAM (a path inside it) into ROOT/DIR; the
# libraries it loads, directly or through another, into ROOT/lib; the loader at ROOT/lib.
copy_arm64() {
    local stage=$1 root=$2 dir=$3 program=$4 file lib d found
    mkdir -p "$root$dir" "$root/lib"
    cp -L "$stage$program" "$root$dir/"
    [ -e "$root/lib/ld-linux-aarch64.so.1" ] || cp -L "$stage/lib/ld-linux-aarch64.so.1" "$root/lib/"
    local todo="$stage$program"
    while [ -n "$todo" ]; do
        file=${todo%% *}
        todo=${todo#"$file"}
        todo=${todo# }
        for lib in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            [ -e "$root/lib/$lib" ] && continue
            found=
            for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib; do
                [ -e "$stage/$d/$lib" ] && { found=$stage/$d/$lib; break; }
            done
            [ -n "$found" ] || { echo "copy_arm64: $program needs $lib, which no unpacked package has" >&2; return 1; }
            cp -L "$found" "$root/lib/$lib"
            todo="$todo${todo:+ }$found"
        done
    done
}
