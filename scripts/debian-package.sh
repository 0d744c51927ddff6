#!/usr/bin/env bash
# Makes sure the commands a command, test or benchmark runs are on PATH, from Debian packages: installs the missing
# ones as root with apt-get (in one go); otherwise fails at once naming every missing package and the command that
# installs them.
#   scripts/debian-package.sh PACKAGE COMMAND...              e.g. prometheus promtool prometheus
#   scripts/debian-package.sh PACKAGE=COMMAND[,COMMAND]...    several, e.g. mariadb-server=mariadb-install-db maven=mvn
# PACKAGE may be alternatives, A|B: the first one apt knows is installed (openjdk-17-jre-headless is gone from
# Debian 13, whose Java is 21).
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 PACKAGE COMMAND... | PACKAGE=COMMAND[,COMMAND]..." >&2; exit 2; }
specs=("$@")
[[ $1 == *=* ]] || { p=$1; shift; IFS=,; specs=("$p=$*"); unset IFS; }

say() { echo "packages: $*" >&2; }
# /usr/sbin is not on every user's PATH, and mariadbd lives there.
have() { command -v "$1" >/dev/null || [[ -x /usr/sbin/$1 ]]; }

missing=() commands=()
for spec in "${specs[@]}"; do
  package=${spec%%=*}
  IFS=, read -ra cmds <<<"${spec#*=}"
  lacking=()
  for c in "${cmds[@]}"; do have "$c" || lacking+=("$c"); done
  [[ ${#lacking[@]} -gt 0 ]] && missing+=("$package") && commands+=("${lacking[@]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

# The first of A|B that apt can install, else A (named in the error).
pick() {
  local alternatives a
  IFS='|' read -ra alternatives <<<"$1"
  for a in "${alternatives[@]}"; do apt-cache show "$a" >/dev/null 2>&1 && { echo "$a"; return; }; done
  echo "${alternatives[0]}"
}

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  apt-get update -qq
  packages=()
  for m in "${missing[@]}"; do packages+=("$(pick "$m")"); done
  say "${commands[*]} missing; installing Debian's ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
    || { say "ERROR: apt-get install ${packages[*]} failed"; exit 1; }
  for c in "${commands[@]}"; do have "$c" || { say "ERROR: ${packages[*]} installed no $c on PATH"; exit 1; }; done
  say "ready: ${commands[*]}"
else
  say "ERROR: ${commands[*]} needed and missing from PATH."
  say "Install with: sudo apt-get install ${missing[*]%%|*}   (Debian/Ubuntu)"
  exit 1
fi
