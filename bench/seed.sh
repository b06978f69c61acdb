#!/bin/sh
# Seeding benchmark: usi-init's first-boot seeding of one persistent path
# against `rsync -aAX` followed by `sync -f` (syncfs), on loop-device ext4
# images, interleaved, medians. See bench/README.md.
#
# usage: bench/seed.sh [USI_INIT] [RUNS]     (as root; default build/usi-init, 5)
# env:   SMALL_FILES (10000), LARGE_MB (200), LARGE_FILES (10);
#        USI_WRAP: a command put before usi-init (e.g. "strace -c -o /tmp/sc")
set -eu

here=$(cd "$(dirname "$0")" && pwd)
USI_INIT=$(realpath "${1:-$here/../build/usi-init}")
RUNS=${2:-5}
SMALL_FILES=${SMALL_FILES:-10000}
LARGE_MB=${LARGE_MB:-200}
LARGE_FILES=${LARGE_FILES:-10}
USI_WRAP=${USI_WRAP:-}
export USI_INIT RUNS SMALL_FILES LARGE_MB LARGE_FILES USI_WRAP

die() { echo "seed.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (loop devices, mount namespaces)"
for c in losetup mkfs.ext4 unshare rsync python3 flock; do
	command -v $c >/dev/null || die "needs $c"
done
[ -x "$USI_INIT" ] || die "no usi-init at $USI_INIT (build first, or pass its path)"

# Everything below runs in a private mount namespace: what it mounts is gone
# when it ends; loops are detached by the trap.
if [ -z "${SEED_BENCH_NS:-}" ]; then
	SEED_BENCH_NS=1 exec unshare -m --propagation private sh "$here/seed.sh" "$@"
fi

T=$(mktemp -d /tmp/usi-seed-bench.XXXXXX)
cleanup() {
	umount -R "$T/root" 2>/dev/null || true
	umount "$T/rs" 2>/dev/null || true
	for l in $(losetup -a | grep -F "($T/" | cut -d: -f1); do losetup -d "$l" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
# The default layout finds COS_OEM and COS_PERSISTENT on every block device:
# one holder at a time, the pipeline tests included.
exec 9>/tmp/usi-init-pipeline-tests.lock
flock 9

# Images made ready for timing: no lazy inode-table or journal zeroing
# running in the background of a timed copy.
mkimg() { # FILE SIZE_MB LABEL [TREE]
	rm -f "$1"
	truncate -s "$2M" "$1"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L "$3" ${4:+-d "$4"} "$1"
}
attach() { losetup -f --show "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The image: /opt/small (SMALL_FILES files of 512 B to 8 KiB in 100 dirs),
# /opt/large (LARGE_MB in LARGE_FILES files), owners, modes and an xattr
# on some, on its own ext4 loop image.
echo "building the trees in $T ..." >&2
mkdir -p "$T/tree/usr/local" "$T/tree/etc" "$T/tree/var" "$T/tree/srv" "$T/tree/run" "$T/root" "$T/rs" "$T/oemtree"
python3 - "$T/tree/opt" <<'EOF'
import os, sys, random
top = sys.argv[1]
rnd = random.Random(16)
n, mb, nl = int(os.environ["SMALL_FILES"]), int(os.environ["LARGE_MB"]), int(os.environ["LARGE_FILES"])
for i in range(n):
    d = os.path.join(top, "small", "d%03d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "f%05d" % i)
    with open(p, "wb") as f:
        f.write(rnd.randbytes(rnd.randint(512, 8192)))
    os.chmod(p, 0o644 if i % 3 else 0o600)
    if i % 7 == 0:
        os.chown(p, 1000 + i % 5, 1000)
    if i % 11 == 0:
        os.setxattr(p, "user.bench", b"v%d" % i)
os.makedirs(os.path.join(top, "large"), exist_ok=True)
chunk = rnd.randbytes(1 << 20)
for j in range(nl):
    with open(os.path.join(top, "large", "blob%02d" % j), "wb") as f:
        for _ in range(mb // nl):
            f.write(chunk)
EOF
mkimg "$T/root.img" $((LARGE_MB * 2 + 256)) ROOTFS "$T/tree"
rm -rf "$T/tree"
mount "$(attach "$T/root.img")" "$T/root"
mkimg "$T/oem.img" 32 COS_OEM "$T/oemtree"
attach "$T/oem.img" >/dev/null
PSIZE=$((LARGE_MB * 2 + 256))
# The source is read from the page cache by both tools alike.
tar -cf - -C "$T/root/opt" . >/dev/null

# One seeding by usi-init: a fresh COS_PERSISTENT, `boot --root` with only
# /opt/NAME bound; the binds stage's time from state.json.
run_usi() { # NAME
	mkimg "$T/persistent.img" $PSIZE COS_PERSISTENT
	dev=$(attach "$T/persistent.img")
	printf 'binds:\n  paths: [/opt/%s]\n' "$1" >"$T/bench.yaml"
	sync
	unshare -m --propagation private sh -c '
		$USI_WRAP "$USI_INIT" boot --root "$1" --no-handoff --config "$2/bench.yaml" >"$2/out" 2>&1 || exit 1
		cp "$1/run/usi-init/state.json" "$2/state.json"
	' - "$T/root" "$T" || { cat "$T/out" >&2; die "usi-init boot failed"; }
	losetup -d "$dev"
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print([x["ms"] for x in s["stages"] if x["name"]=="binds"][0])' "$T/state.json"
}

# One copy by rsync onto a fresh ext4 of the same size, then syncfs; prints
# "rsync_ms rsync+syncfs_ms".
run_rsync() { # NAME
	mkimg "$T/rs.img" $PSIZE RSYNC
	dev=$(attach "$T/rs.img")
	mount "$dev" "$T/rs"
	sync
	t0=$(now_ms)
	rsync -aAX "$T/root/opt/$1/" "$T/rs/state/"
	t1=$(now_ms)
	sync -f "$T/rs/state"
	t2=$(now_ms)
	umount "$T/rs"
	losetup -d "$dev"
	echo "$((t1 - t0)) $((t2 - t0))"
}

: >"$T/results"
for i in $(seq 1 "$RUNS"); do
	for name in small large; do
		# Alternate which goes first, so neither always gets the cooler cache.
		if [ $((i % 2)) = 1 ]; then
			u=$(run_usi $name); r=$(run_rsync $name)
		else
			r=$(run_rsync $name); u=$(run_usi $name)
		fi
		echo "$name $u $r" >>"$T/results"
		echo "run $i $name: usi-init ${u} ms, rsync $(echo "$r" | cut -d' ' -f1) ms, rsync+syncfs $(echo "$r" | cut -d' ' -f2) ms" >&2
	done
done

python3 - "$T/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ratios = []
print("%-6s %5s %14s %14s %18s %8s" % ("tree", "runs", "usi-init ms", "rsync ms", "rsync+syncfs ms", "ratio"))
for name in ("small", "large"):
    r = [list(map(int, x[1:])) for x in rows if x[0] == name]
    u, rs, rss = (statistics.median(c) for c in zip(*r))
    spread = lambda k: "%d-%d" % (min(x[k] for x in r), max(x[k] for x in r))
    ratios.append(u / rss)
    print("%-6s %5d %8.0f %5s %8.0f %5s %8.0f %9s %8.2f" % (name, len(r), u, "", rs, "", rss, "", u / rss))
    print("%-6s %5s %14s %14s %18s" % ("", "range", spread(0), spread(1), spread(2)))
for name, q in zip(("small", "large"), ratios):
    print("seeding ratio usi-init/rsync (%s): %.2f" % (name, q))
print("seeding ratio usi-init/rsync: %.2f" % max(ratios))
EOF
