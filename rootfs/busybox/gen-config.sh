#!/bin/sh
# Generates a full BusyBox .config from `make allnoconfig` plus busybox.fragment.
# Usage: gen-config.sh BUSYBOX_SOURCE_DIR FRAGMENT OUTPUT
# Symbols that the fragment enables bring in their sub-options at their Kconfig defaults unless the
# fragment sets them; the script fails if any fragment line did not survive (unknown symbol, unmet
# dependency). Run from a scratch copy of the source: it writes .config there.
set -eu
src=$1 fragment=$(realpath "$2") out=$(realpath "$3")
cd "$src"
make -s allnoconfig >/dev/null
grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$fragment" > .fragment.tmp || true
# Pass the fragment twice: the first oldconfig makes sub-options visible, the second sets them.
for pass in 1 2; do
  while IFS= read -r line; do
    case $line in
      "# CONFIG_"*) sym=${line#\# }; sym=${sym%% *} ;;
      *) sym=${line%%=*} ;;
    esac
    case $line in *=n) line="# $sym is not set" ;; esac
    grep -v -e "^$sym=" -e "^# $sym is not set\$" .config > .config.tmp || true
    printf '%s\n' "$line" >> .config.tmp
    mv .config.tmp .config
  done < .fragment.tmp
  yes "" | make -s oldconfig >/dev/null 2>&1 || true
done
bad=0
while IFS= read -r line; do
  case $line in
    *=n) sym=${line%%=*}; grep -qx "# $sym is not set" .config || ! grep -q "^$sym=" .config || { echo "not off: $line" >&2; bad=1; } ;;
    "# CONFIG_"*) sym=${line#\# }; sym=${sym%% *}; ! grep -q "^$sym=" .config || { echo "not off: $line" >&2; bad=1; } ;;
    *) grep -qxF "$line" .config || { echo "not applied: $line (got: $(grep -E "^(# )?${line%%=*}[= ]" .config || echo absent))" >&2; bad=1; } ;;
  esac
done < .fragment.tmp
rm -f .fragment.tmp
[ "$bad" = 0 ] || exit 1
# Drop the volatile header date so the file is reproducible.
sed -e '/^# [A-Z][a-z][a-z] [A-Z][a-z][a-z] .*[0-9][0-9]:[0-9][0-9]:[0-9][0-9] /d' .config > "$out"
