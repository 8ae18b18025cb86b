#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Real programs, unchanged, under LD_PRELOAD=libkipc-preload.so against the
# module (make check-clients; not part of the default run): PostgreSQL 15
# with its defaults (initdb, start, pgbench, crashes and restarts,
# shutdown, nothing left behind), Python's threading and multiprocessing
# across fork, perl IPC::SysV, ipcmk/ipcrm, and fakeroot-sysv as an
# unprivileged user.  Each shows that its IPC went through kipc, from
# kipc's own counters (kipcs stats) or objects (kipcs).  Run as root, where
# the module is loaded; TAP, with a kselftest "# Totals:" line.
#   KIPC_PGBENCH_SECS   pgbench run time (30)
#   KIPC_PG_CRASHES     postmaster crashes (kill -9) and restarts (20)
cd "$(dirname "$0")" || exit 1
top=$(cd ../.. && pwd)
preload=$top/compat/libkipc-preload.so
kipcs=$top/tools/kipcs
pgbin=/usr/lib/postgresql/15/bin
bench_secs=${KIPC_PGBENCH_SECS:-30}
crashes=${KIPC_PG_CRASHES:-20}
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
pass=0 fail=0 skip=0 n=0

# Each result goes to the console too, as it comes: run_all.sh shows the
# output only at the end, and a run the VM's time-out kills shows nothing.
progress() { echo "# clients_test: $*" >/dev/console 2>/dev/null; }
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; progress "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; progress "not ok $n $1"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
check() {
	what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# Every command (one word each, run by the shell) succeeds.
all() {
	for c in "$@"; do
		sh -c "$c" >/dev/null 2>&1 || return 1
	done
}
# kipc's module-wide counter KEY (kipcs stats: queue.sent, sem.ops, ...).
stat() { "$kipcs" stats | sed -n "s/^$1: //p"; }
# Live kipc objects (all types, or -q/-s/-m).
objects() { "$kipcs" "$@" --json | grep -c '"id"'; }

echo "TAP version 13"
if [ "$(id -u)" != 0 ] || [ ! -c /dev/kipc ]; then
	echo "1..0 # SKIP needs root and /dev/kipc (run it in the VM: make check-clients)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
work=$(mktemp -d /tmp/kipc-clients.XXXXXX)
chown 65534:65534 "$work"
trap 'rm -rf "$work"' EXIT
"$kipcs" -n | sed 's/^/# before: /'

# ------------------------------------------------------------ PostgreSQL
pg() { (cd "$work" && $nobody env HOME="$work" PGUSER=postgres LD_PRELOAD="$preload" "$@"); }
pgdata=$work/pg
pg_up() {
	pg "$pgbin/pg_ctl" -D "$pgdata" -w -t 300 -l "$work/pg.log" \
		-o "-k $work -c listen_addresses=" start >/dev/null
}
pg_sql() { pg "$pgbin/psql" -X -q -A -t -h "$work" -d postgres -c "$1"; }
# Every postgres process of ours gone (kill -9 leaves the children a while).
pg_gone() {
	t=0
	while pgrep -u 65534 -x postgres >/dev/null; do
		t=$((t + 1))
		[ $t -gt 600 ] && return 1
		sleep 0.1
	done
}
# The kipc objects of a running server: counted once, must not grow.
pg_objects() { objects; }

if [ ! -x "$pgbin/postgres" ]; then
	skip "PostgreSQL 15" "postgresql-15 is not installed (scripts/deps.sh postgresql-15)"
else
	regions=$(stat region.created)
	if pg "$pgbin/initdb" -D "$pgdata" -A trust -U postgres --no-locale \
		-E UTF8 >"$work/initdb.log" 2>&1; then
		ok "PostgreSQL: initdb with the defaults"
	else
		sed 's/^/# /' "$work/initdb.log"
		not_ok "PostgreSQL: initdb with the defaults"
	fi
	dsm=$(sed -n "s/^dynamic_shared_memory_type = \([a-z]*\).*/\1/p" \
		"$pgdata/postgresql.conf" 2>/dev/null)
	check "PostgreSQL: initdb chose dynamic_shared_memory_type=posix (got '$dsm')" \
		[ "$dsm" = posix ]
	if pg_up; then
		ok "PostgreSQL: the server starts"
	else
		sed 's/^/# /' "$work/pg.log"
		not_ok "PostgreSQL: the server starts"
	fi
	# A parallel query: its workers' DSM segments are shm_open regions.
	par=$(pg_sql "set max_parallel_workers_per_gather = 2;
		set parallel_setup_cost = 0; set parallel_tuple_cost = 0;
		set min_parallel_table_scan_size = 0;
		create table t as select g from generate_series(1, 100000) g;
		select count(*) from t;")
	check "PostgreSQL: a parallel query (got '$par')" [ "$par" = 100000 ]
	running=$(pg_objects)
	"$kipcs" -n | sed 's/^/# running: /'
	made=$(($(stat region.created) - regions))
	check "PostgreSQL: its shared memory is kipc's ($running objects, $made regions made)" \
		all "[ $running -gt 0 ]" "[ $made -gt 0 ]"
	if pg "$pgbin/pgbench" -h "$work" -i -q postgres >"$work/bench.log" 2>&1 &&
		pg "$pgbin/pgbench" -h "$work" -c 4 -j 2 -T "$bench_secs" \
			postgres >>"$work/bench.log" 2>&1 &&
		grep -q "number of failed transactions: 0" "$work/bench.log"; then
		ok "PostgreSQL: pgbench for $bench_secs s, no failed transaction ($(sed -n 's/^tps = \([0-9.]*\).*/\1 tps/p' "$work/bench.log"))"
	else
		sed 's/^/# /' "$work/bench.log"
		not_ok "PostgreSQL: pgbench for $bench_secs s, no failed transaction"
	fi
	# Crashes: kill -9 the postmaster, restart; PostgreSQL removes what
	# the dead server left, as it does on the stock calls.
	i=0 grew=
	while [ $i -lt "$crashes" ]; do
		pid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -9 "$pid"
		pg_gone || break
		pg_up || break
		[ "$(pg_sql 'select 1')" = 1 ] || break
		now=$(pg_objects)
		progress "crash $((i + 1)): restarted, $now objects"
		[ "$now" -gt "$running" ] && grew="$grew $now"
		i=$((i + 1))
	done
	check "PostgreSQL: $crashes crashes (kill -9 of the postmaster) and restarts ($i done)" \
		[ "$i" = "$crashes" ]
	check "PostgreSQL: nothing piles up across the crashes ($running objects each time${grew:+, then$grew})" \
		all "[ -z '$grew' ]" "[ $i -gt 0 ]"
	pg "$pgbin/pg_ctl" -D "$pgdata" -w -t 300 stop -m fast >/dev/null
	check "PostgreSQL: a clean shutdown" [ $? = 0 ]
	pg_gone
	left=$(objects)
	"$kipcs" -n | sed 's/^/# after: /'
	check "PostgreSQL: nothing left behind in kipcs ($left objects)" [ "$left" = 0 ]
	grep -E "FATAL|PANIC" "$work/pg.log" | grep -v "terminating|shutting down" |
		head -n 5 | sed 's/^/# pg.log: /'
fi

# ---------------------------------------------------------------- Python
py=/usr/bin/python3
if [ ! -x "$py" ]; then
	skip "Python" "python3 is not installed"
else
	base=$($py -c 'import os; print(len(os.listdir("/proc/self/fd")))')
	sems=$(stat sem.created)
	under=$(LD_PRELOAD=$preload $py -c 'import os; print(len(os.listdir("/proc/self/fd")))')
	check "Python: python3 -c pass has the fds it has without the layer ($under, $base)" \
		[ "$under" = "$base" ]
	check "Python: ... and makes no kipc semaphore ($(($(stat sem.created) - sems)))" \
		[ "$(stat sem.created)" = "$sems" ]
	cat >"$work/threads.py" <<'EOF'
import os, threading
# A lock a forked child takes is the child's copy.
lock = threading.Lock()
pid = os.fork()
if pid == 0:
    lock.acquire()
    os._exit(0)
os.waitpid(pid, 0)
assert lock.acquire(timeout=6), "the parent's lock was taken by the child"
# More locks than descriptors.
locks = [threading.Lock() for _ in range(5000)]
for l in locks:
    l.acquire()
# Threads handing a condition back and forth.
cond, box = threading.Condition(), []
def worker():
    for i in range(200):
        with cond:
            box.append(i)
            cond.notify()
t = threading.Thread(target=worker)
t.start()
got = 0
while got < 200:
    with cond:
        while not box:
            cond.wait(timeout=10)
        got += len(box)
        box.clear()
t.join()
print("ok")
EOF
	sems=$(stat sem.created)
	out=$(LD_PRELOAD=$preload timeout 120 $py "$work/threads.py" 2>&1)
	check "Python: threading locks across fork, 5000 locks, a condition ($out)" [ "$out" = ok ]
	check "Python: ... untouched by the layer (no kipc semaphore made)" \
		[ "$(stat sem.created)" = "$sems" ]
	cat >"$work/mp.py" <<'EOF'
import multiprocessing as mp, os, subprocess, sys
def worker(sem, lock, q, n):
    with lock:
        q.put((n, os.getpid()))
    sem.release()
if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[2])
    sem, lock, q = ctx.Semaphore(0), ctx.Lock(), ctx.Queue()
    ps = [ctx.Process(target=worker, args=(sem, lock, q, n)) for n in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        assert sem.acquire(timeout=60), "a worker's release was lost"
    got = sorted(q.get(timeout=60)[0] for _ in ps)
    for p in ps:
        p.join()
    assert got == [0, 1, 2, 3], got
    assert all(p.exitcode == 0 for p in ps)
    # Its semaphores are kipc's while they live.
    live = subprocess.run([sys.argv[1], "-s", "--json"], capture_output=True,
                          text=True).stdout.count('"id"')
    print("ok", live)
EOF
	for method in fork spawn; do
		ops=$(stat sem.ops)
		out=$(LD_PRELOAD=$preload timeout 180 $py "$work/mp.py" "$kipcs" $method 2>&1)
		check "Python: multiprocessing ($method) Semaphore, Lock, Queue ($out)" \
			[ "${out%% *}" = ok ]
		ops=$(($(stat sem.ops) - ops))
		check "Python: ... through kipc (${out#ok } live semaphores, $ops semaphore ops)" \
			all "[ '${out#ok }' -gt 0 ]" "[ $ops -gt 0 ]"
	done
	left=$(objects -s)
	check "Python: no semaphore left ($left)" [ "$left" = 0 ]
fi

# ------------------------------------------------------------ perl, ipcmk
if ! perl -MIPC::SysV -e 1 2>/dev/null; then
	skip "perl IPC::SysV" "perl's IPC::SysV is missing"
else
	sent=$(stat queue.sent)
	out=$(LD_PRELOAD=$preload perl -e '
		use strict;
		use IPC::SysV qw(IPC_PRIVATE IPC_CREAT IPC_RMID S_IRUSR S_IWUSR);
		use IPC::Msg; use IPC::Semaphore; use IPC::SharedMem;
		my $q = IPC::Msg->new(IPC_PRIVATE, S_IRUSR | S_IWUSR) or die "msg: $!";
		$q->snd(7, "hello") or die "snd: $!";
		my $buf; $q->rcv($buf, 64) or die "rcv: $!";
		$buf eq "hello" or die "got $buf";
		my $s = IPC::Semaphore->new(IPC_PRIVATE, 2, S_IRUSR | S_IWUSR | IPC_CREAT) or die "sem: $!";
		$s->setall(3, 0) or die "setall: $!";
		$s->op(0, -1, 0, 1, 2, 0) or die "op: $!";
		join(",", $s->getall) eq "2,2" or die "getall: " . join(",", $s->getall);
		my $m = IPC::SharedMem->new(IPC_PRIVATE, 4096, S_IRUSR | S_IWUSR) or die "shm: $!";
		$m->write("kipc", 0, 4) or die "write: $!";
		$m->read(0, 4) eq "kipc" or die "read";
		my $n = () = `'"$kipcs"' --json` =~ /"id"/g;
		$q->remove; $s->remove; $m->remove;
		print "ok $n\n";' 2>&1)
	check "perl IPC::SysV: a queue, a semaphore set, a segment ($out)" [ "${out%% *}" = ok ]
	sent=$(($(stat queue.sent) - sent))
	check "perl IPC::SysV: ... kipc objects (${out#ok } while it ran, queue.sent +$sent)" \
		all "[ '${out#ok }' -ge 3 ]" "[ $sent -gt 0 ]"
fi
if ! command -v ipcmk >/dev/null; then
	skip "ipcmk/ipcrm" "util-linux's ipcmk is missing"
else
	q=$(LD_PRELOAD=$preload ipcmk -Q | sed -n 's/.*: *//p')
	s=$(LD_PRELOAD=$preload ipcmk -S 2 | sed -n 's/.*: *//p')
	m=$(LD_PRELOAD=$preload ipcmk -M 8192 | sed -n 's/.*: *//p')
	check "ipcmk -Q/-S/-M: kipc objects (ids $q $s $m)" \
		all "$kipcs -i '$q'" "$kipcs -i '$s'" "$kipcs -i '$m'"
	# ipcrm -a lists /proc/sysvipc, the kernel's own objects: it cannot see
	# kipc's (kipc_compat(7)); kipcs rm can.
	LD_PRELOAD=$preload ipcrm -a 2>/dev/null
	check "ipcrm -a: does not see kipc objects (kipc_compat(7))" \
		all "$kipcs -i '$q'"
	check "ipcrm -q/-s/-m: removes them" \
		env LD_PRELOAD="$preload" ipcrm -q "$q" -s "$s" -m "$m"
	check "... gone from kipcs ($(objects))" [ "$(objects)" = 0 ]
fi

# -------------------------------------------------------- fakeroot-sysv
if ! command -v fakeroot-sysv >/dev/null; then
	skip "fakeroot-sysv" "fakeroot is not installed"
else
	sent=$(stat queue.sent)
	out=$(cd "$work" && $nobody env HOME="$work" LD_PRELOAD="$preload" \
		timeout 120 fakeroot-sysv sh -c \
		'touch f && chown 0:0 f && mknod dev c 1 3 && stat -c "%u:%g %F" f dev' 2>&1)
	check "fakeroot-sysv as uid 65534 under the preload (got: $(echo $out))" \
		[ "$(echo $out)" = "0:0 regular empty file 0:0 character special file" ]
	check "fakeroot-sysv: faked and its clients spoke over kipc queues (queue.sent +$(($(stat queue.sent) - sent)))" \
		[ "$(stat queue.sent)" -gt $((sent + 3)) ]
	i=0
	while [ "$(objects -q)" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	check "fakeroot-sysv: faked removed its queues ($(objects -q) left)" [ "$(objects -q)" = 0 ]
fi

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
