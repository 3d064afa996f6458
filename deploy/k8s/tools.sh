#!/usr/bin/env bash
# What the manifests' check needs, pinned, into $MAPPA_CACHE_DIR/k8s (outside the repository):
#   bin/kustomize         sigs.k8s.io/kustomize v5.8.2, built by `go install` from the Go module proxy
#   crds/*.yaml           the custom resource definitions the manifests use: CloudNativePG's, KEDA's and
#                         the OpenTelemetry operator's from their Go modules (checksums verified against
#                         sum.golang.org), Strimzi's made by its own generator from its Maven Central jars
# The Kubernetes API's own schemas come with kubernetes-validate (a dev dependency in uv.lock).
# Safe to run again: each part is fetched once per version.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${MAPPA_CACHE_DIR:-$HOME/.cache/mappa}"
OUT="$CACHE_DIR/k8s"
KUSTOMIZE=v5.8.2
MODULES=(
  "github.com/cloudnative-pg/cloudnative-pg@v1.30.0 config/crd/bases/postgresql.cnpg.io_clusters.yaml"
  "github.com/kedacore/keda/v2@v2.21.0 config/crd/bases/keda.sh_scaledobjects.yaml"
  "github.com/kedacore/keda/v2@v2.21.0 config/crd/bases/keda.sh_triggerauthentications.yaml"
  "github.com/open-telemetry/opentelemetry-operator@v0.140.0 config/crd/bases/opentelemetry.io_opentelemetrycollectors.yaml"
)
STRIMZI_MODEL=io.strimzi.api.kafka.model
STRIMZI=(kafka.Kafka nodepool.KafkaNodePool topic.KafkaTopic user.KafkaUser)

say() { echo "k8s-tools: $*"; }
die() { echo "k8s-tools: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (the Go toolchain builds kustomize)"
export GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/cache" GOFLAGS="-modcacherw -buildvcs=false"
mkdir -p "$OUT/bin" "$OUT/crds"

if [ "$("$OUT/bin/kustomize" version 2>/dev/null || true)" != "$KUSTOMIZE" ]; then
  say "building kustomize $KUSTOMIZE"
  GOBIN="$OUT/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE"
fi

for entry in "${MODULES[@]}"; do
  read -r module path <<<"$entry"
  target="$OUT/crds/$(basename "$path")"
  [ -f "$target.$(echo "$module" | tr '/@' '__')" ] && continue
  say "CRD $(basename "$path") from $module"
  dir=$(go mod download -json "$module" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  [ -f "$dir/$path" ] || die "$module has no $path"
  cp "$dir/$path" "$target"
  rm -f "$target".* && touch "$target.$(echo "$module" | tr '/@' '__')"
done

# Strimzi's generator is compiled for Java 21 or newer: the newest JDK here.
stamp="$OUT/crds/.strimzi.$(sha256sum "$HERE/strimzi-crds.pom.xml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  java=""
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -x "$candidate/bin/java" ] || continue
    version=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    if [ "${version%%.*}" -ge 21 ] 2>/dev/null; then java="$candidate/bin/java"; fi
  done
  [ -n "$java" ] || die "Strimzi's CRD generator needs Java 21 or newer (none under /usr/lib/jvm or JAVA_HOME)"
  say "Strimzi CRDs, generated with $java"
  rm -rf "$OUT/strimzi-lib"
  mvn -q -B -f "$HERE/strimzi-crds.pom.xml" dependency:copy-dependencies -DoutputDirectory="$OUT/strimzi-lib" </dev/null
  args=()
  for class in "${STRIMZI[@]}"; do args+=("$STRIMZI_MODEL.$class=$OUT/crds/strimzi-${class##*.}.yaml"); done
  "$java" -cp "$OUT/strimzi-lib/*" io.strimzi.crdgenerator.CrdGenerator --crd-api-version v1 \
    --api-versions v1 --storage-version v1 --yaml "${args[@]}" >"$OUT/strimzi-generator.log" 2>&1 ||
    { tail -20 "$OUT/strimzi-generator.log" >&2; die "Strimzi's CRD generator failed"; }
  rm -f "$OUT"/crds/.strimzi.* && touch "$stamp"
fi
say "kustomize and $(ls "$OUT"/crds/*.yaml | wc -l) CRDs in $OUT"
