# Sourced by kafka.sh and druid.sh: copies a pom's runtime dependencies from Maven Central into a folder, once.
#   resolve_jars <what, for messages> <pom> <-Dproperty=version> <folder>
# Needs say and die from the caller.
resolve_jars() {
  local what=$1 pom=$2 version_property=$3 dest=$4
  [[ -f $dest/.complete ]] && return
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch $what from Maven Central"
  command -v java >/dev/null || die "Java 17 is needed to run $what"
  say "resolving $what from Maven Central into $dest"
  rm -rf "$dest" && mkdir -p "$dest"
  mvn -q -B -f "$pom" "$version_property" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest" >&2 \
    || die "mvn could not resolve $what (see the Maven output above)"
  touch "$dest/.complete"
}
